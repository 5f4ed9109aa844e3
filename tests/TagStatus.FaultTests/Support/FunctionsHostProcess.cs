using System.Diagnostics;
using System.Net.Http.Headers;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.FaultTests.Support;

/// <summary>
/// The Functions app published and running under the real Azure Functions host (FUNCTIONS_HOST_RUNNER, see
/// scripts/start-stack.sh), in its own process group. <see cref="KillWorker"/> kills the app's .NET worker (the host's
/// child) with SIGKILL, as a crash of the worker in Azure would; the host starts a new one.
/// </summary>
public sealed class FunctionsHostProcess : IAsyncDisposable
{
    public const string RunnerVariable = "FUNCTIONS_HOST_RUNNER";

    private readonly string _app = Directory.CreateTempSubdirectory("tagstatus-functions-app-").FullName;
    private readonly int _port = AzuriteFixture.FreePort();
    private readonly List<string> _output = [];
    private Process? _host;

    private FunctionsHostProcess()
    {
    }

    /// <summary>The runner named by FUNCTIONS_HOST_RUNNER, or null when this machine has none.</summary>
    public static string? Runner => Environment.GetEnvironmentVariable(RunnerVariable) is { Length: > 0 } runner ? runner : null;

    public Uri BaseUrl => new($"http://127.0.0.1:{_port}/");

    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    public static async Task<FunctionsHostProcess> StartAsync(string runner, string storage, string functionKey, IReadOnlyDictionary<string, string> settings)
    {
        var host = new FunctionsHostProcess();
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        await RunAsync("dotnet", ["publish", Path.Combine(RepoPaths.Root, "src", "TagStatus.Functions"), "-c", configuration, "--no-build", "-o", host._app, "-nologo", "-v:q"]);
        var start = new ProcessStartInfo("setsid")
        {
            ArgumentList =
            {
                runner, "--app", host._app, "--port", host._port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--storage", storage,
                "--settings", Path.Combine(RepoPaths.Root, "local.settings.sample.json"), "--function-key", functionKey,
                "--master-key", SecretScan.NewSecret("master"), "--",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in settings)
        {
            start.ArgumentList.Add($"{name}={value}");
        }

        host._host = Process.Start(start) ?? throw new InvalidOperationException("The Functions host did not start.");
        host._host.OutputDataReceived += (_, line) => host.Append(line.Data);
        host._host.ErrorDataReceived += (_, line) => host.Append(line.Data);
        host._host.BeginOutputReadLine();
        host._host.BeginErrorReadLine();
        await host.WaitReadyAsync(TimeSpan.FromSeconds(180));
        return host;
    }

    public HttpClient CreateClient(string functionKey)
    {
        var client = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("x-functions-key", functionKey);
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }

    /// <summary>SIGKILL to the app's worker process; returns its PID.</summary>
    public int KillWorker()
    {
        var worker = Directory.EnumerateDirectories("/proc")
            .Select(dir => int.TryParse(Path.GetFileName(dir), out var pid) ? pid : 0)
            .Where(pid => pid > 0)
            .FirstOrDefault(pid => ReadCmdline(pid).Contains(_app, StringComparison.Ordinal) && ReadCmdline(pid).Contains("TagStatus.Functions.dll", StringComparison.Ordinal));
        Assert.True(worker > 0, "the Functions worker process was not found");
        using var process = Process.GetProcessById(worker);
        process.Kill();
        process.WaitForExit(10_000);
        return worker;
    }

    /// <summary>Until the worker serves the one anonymous route again.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var probe = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if ((await probe.GetAsync("api/openapi.json")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            Assert.True(deadline.Elapsed < timeout && !_host!.HasExited, $"the Functions host did not serve within {timeout.TotalSeconds} s:\n{Tail()}");
            await Task.Delay(300);
        }
    }

    private string Tail()
    {
        lock (_output)
        {
            return string.Join('\n', _output.TakeLast(30));
        }
    }

    private static string ReadCmdline(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return string.Empty;
        }
        catch (UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.Add(line);
            }
        }
    }

    private static async Task RunAsync(string file, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', start.ArgumentList)} failed:\n{await output}\n{await error}");
    }

    public ValueTask DisposeAsync()
    {
        if (_host is { HasExited: false })
        {
            // The host leads its own group (setsid): the group takes the worker with it.
            using var kill = Process.Start("kill", ["-9", "--", "-" + _host.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit(10_000);
            _host.WaitForExit(10_000);
        }

        _host?.Dispose();
        Directory.Delete(_app, recursive: true);
        return ValueTask.CompletedTask;
    }
}
