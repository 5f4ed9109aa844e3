using System.Diagnostics;
using System.Net.Http.Headers;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.FaultTests.Support;

/// <summary>
/// src/TagStatus.LocalHost as its own process (built output of the configuration this suite was built in), started with
/// the given app settings on a fixed loopback port, killable with SIGKILL and restartable on the same port. Its output is
/// kept for the secret scan.
/// </summary>
public sealed class LocalHostProcess : IAsyncDisposable
{
    private readonly IReadOnlyDictionary<string, string> _settings;
    private readonly int _port = AzuriteFixture.FreePort();
    private readonly string _log = Path.Combine(Path.GetTempPath(), $"tagstatus-localhost-{Guid.NewGuid():N}.log");
    private Process? _process;

    private LocalHostProcess(IReadOnlyDictionary<string, string> settings) => _settings = settings;

    public Uri BaseUrl => new($"http://127.0.0.1:{_port}/");

    /// <summary>Everything the process wrote, over every run.</summary>
    public string Output => File.Exists(_log) ? File.ReadAllText(_log) : string.Empty;

    public static async Task<LocalHostProcess> StartAsync(IReadOnlyDictionary<string, string> settings)
    {
        var host = new LocalHostProcess(settings);
        await host.RestartAsync();
        return host;
    }

    public HttpClient CreateClient(string functionKey)
    {
        var client = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("x-functions-key", functionKey);
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }

    public async Task RestartAsync()
    {
        // The configuration this suite was built in: bin/<Configuration>/net10.0/.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var dll = Path.Combine(RepoPaths.Root, "src", "TagStatus.LocalHost", "bin", configuration, "net10.0", "TagStatus.LocalHost.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: build the solution ({configuration}) first.");
        }

        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll, "--urls", BaseUrl.AbsoluteUri.TrimEnd('/') },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in _settings)
        {
            start.Environment[name] = value;
        }

        _process?.Dispose();
        _process = Process.Start(start) ?? throw new InvalidOperationException("The LocalHost did not start.");
        _process.OutputDataReceived += (_, line) => Append(line.Data);
        _process.ErrorDataReceived += (_, line) => Append(line.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var probe = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                (await probe.GetAsync("api/openapi.json")).EnsureSuccessStatusCode();
                return;
            }
            catch (HttpRequestException) when (deadline.Elapsed < TimeSpan.FromSeconds(60) && !_process.HasExited)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>SIGKILL: whatever it was doing stops there.</summary>
    public void Kill()
    {
        _process!.Kill();
        _process.WaitForExit(10_000);
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                File.AppendAllText(_log, line + Environment.NewLine);
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }

        _process?.Dispose();
        File.Delete(_log);
        return ValueTask.CompletedTask;
    }
}
