namespace TagStatus.EndToEndTests;

/// <summary>
/// The host's own log after the rest of the suite ran against it: no failure logged by the app, and no secret in any
/// line. scripts/test.sh runs these alone (Category=HostLog), after the suite, on each host it drives.
/// </summary>
[Trait("Category", "HostLog")]
public sealed class HostLogTests
{
    [Fact]
    public void The_host_log_has_no_failure_line()
    {
        var failures = Lines().Where(line => line.StartsWith("fail:", StringComparison.Ordinal)).ToList();

        Assert.True(failures.Count == 0, $"{failures.Count} 'fail:' lines in {E2e.HostLog}, the first: {failures.FirstOrDefault()}");
    }

    [Fact]
    public void The_host_log_never_shows_a_key_or_a_code_query_value()
    {
        var secrets = new List<(string Name, string Value)>
        {
            ("the SMS Partner API key", E2e.SmsPartnerKey),
            ("the function key", E2e.Key),
            ("the callback signing key", E2e.SigningKey),
        };
        if (E2e.Host is AppHost.FunctionsHost)
        {
            secrets.Add(("the master key", E2e.MasterKey)); // the LocalHost has no admin API, func start makes its own
        }

        Assert.All(secrets, secret => Assert.True(secret.Value.Length >= 16, $"{secret.Name} is too short to scan for: the stack should give a random one"));
        var lines = Lines();

        foreach (var (name, value) in secrets)
        {
            var leaking = lines.FirstOrDefault(line => line.Contains(value, StringComparison.Ordinal));
            Assert.True(leaking is null, $"{name} appears in {E2e.HostLog}");
        }

        // Any ?code=/&code= with a value, whatever the key: a request URL logged whole.
        var coded = lines.FirstOrDefault(line => System.Text.RegularExpressions.Regex.IsMatch(line, @"[?&]code=[^&\s""]"));
        Assert.True(coded is null, $"a code query value appears in {E2e.HostLog}: {coded?.Replace(E2e.Key, "***", StringComparison.Ordinal)}");
    }

    private static IReadOnlyList<string> Lines()
    {
        var path = E2e.HostLog ?? throw new InvalidOperationException(
            $"{E2e.HostLogVariable} is not set: scripts/test.sh sets it to the log of the host it started.");
        var lines = File.ReadAllLines(path);
        Assert.True(lines.Length > 20, $"{path} has {lines.Length} lines: the host logged nothing of the suite");
        return lines;
    }
}
