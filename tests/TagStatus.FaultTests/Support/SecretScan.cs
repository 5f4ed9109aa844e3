namespace TagStatus.FaultTests.Support;

/// <summary>
/// The secrets of every run of this suite (the SMS Partner key, the signing key, function keys) and the scan of what
/// the suite captured (log lines, response bodies, exception messages): none may hold one.
/// </summary>
public static class SecretScan
{
    /// <summary>A fresh secret, long and random enough that finding it anywhere means it leaked.</summary>
    public static string NewSecret(string label) => $"{label}-{Guid.NewGuid():N}{Guid.NewGuid():N}";

    /// <summary>Fails when any text holds any secret.</summary>
    public static void AssertClean(IEnumerable<string> secrets, params string?[] texts)
    {
        var needles = secrets.Where(s => !string.IsNullOrEmpty(s)).ToList();
        Assert.NotEmpty(needles);
        foreach (var text in texts)
        {
            if (string.IsNullOrEmpty(text))
            {
                continue;
            }

            foreach (var secret in needles)
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"a secret ({secret[..Math.Min(6, secret.Length)]}…) appears in captured text");
            }
        }
    }
}
