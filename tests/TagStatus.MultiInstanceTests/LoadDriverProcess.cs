using System.Diagnostics;
using System.Text;
using System.Text.Json;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.MultiInstanceTests;

/// <summary>What one driver reported when its load ended.</summary>
/// <param name="Statuses">Lookup mode: how many answers had each HTTP status.</param>
public sealed record LoadSummary(int Reads, int Pages, double Seconds, Dictionary<string, int> Failures, Dictionary<string, int>? Statuses = null);

/// <summary>
/// One <c>bench/TagStatus.BudgetLoad</c> process: started with the app's settings, told when to go, read for its summary,
/// and killed by its PID on dispose if it is still running, pass or fail.
/// </summary>
public sealed class LoadDriverProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _summary = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LoadDriverProcess(Process process) => _process = process;

    public int Id => _process.Id;

    /// <summary>What every driver is composed with: the shared Azurite tables and the simulator as SMS Partner, no vault.</summary>
    public static string[] AppSettings(AzuriteFixture azurite, SmsPartner.Simulator.RunningSimulator simulator) =>
    [
        $"--TagStorage:ConnectionString={azurite.ConnectionString}",
        $"--TagStorage:TablePrefix={AzuriteFixture.UniquePrefix()}",
        $"--SmsPartner:BaseUrl={simulator.BaseUri}",
        $"--SmsPartner:ApiKey={simulator.ApiKey}",
        "--Secrets:VaultUri=",
        "--Callbacks:SigningKey=unused-by-the-load",
    ];

    /// <summary>Kills what is still running, pass or fail.</summary>
    public static void DisposeAll(IEnumerable<LoadDriverProcess> drivers)
    {
        foreach (var driver in drivers)
        {
            driver.Dispose();
        }
    }

    /// <summary>
    /// Each driver's redirected stdout and stderr are read by pool threads blocked on their pipes, and the simulator (the
    /// judge, in this process) runs on the same pool: with the pool at its 2-core minimum it starved, and the judge stamped
    /// calls after ~0.6 s thread-injection stalls (measured by <see cref="StallWatch"/>), bunching their arrival times.
    /// </summary>
    static LoadDriverProcess()
    {
        ThreadPool.GetMinThreads(out var workers, out var completions);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), completions);
    }

    public static LoadDriverProcess Start(IEnumerable<string> settings)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(DriverPath());
        foreach (var setting in settings)
        {
            info.ArgumentList.Add(setting);
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var driver = new LoadDriverProcess(process);
        process.OutputDataReceived += (_, e) => driver.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            lock (driver._stderr)
            {
                driver._stderr.AppendLine(e.Data);
            }
        };
        process.Exited += (_, _) =>
        {
            // Exited can come before the last output lines are handled: wait for the output to end first, so a summary
            // printed just before a normal exit is not taken for a missing one.
            process.WaitForExit();
            driver._ready.TrySetException(new InvalidOperationException($"Load driver {driver.Id} exited early: {driver.Errors}"));
            driver._summary.TrySetException(new InvalidOperationException($"Load driver {driver.Id} ended without a summary: {driver.Errors}"));
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return driver;
    }

    public string Errors
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public Task ReadyAsync(TimeSpan timeout) => _ready.Task.WaitAsync(timeout);

    public async Task GoAsync()
    {
        await _process.StandardInput.WriteLineAsync();
        await _process.StandardInput.FlushAsync();
    }

    public async Task<LoadSummary> SummaryAsync(TimeSpan timeout) =>
        JsonSerializer.Deserialize<LoadSummary>(await _summary.Task.WaitAsync(timeout))
        ?? throw new InvalidOperationException("The load driver printed JSON null.");

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void OnOutput(string? line)
    {
        if (line == "ready")
        {
            _ready.TrySetResult();
        }
        else if (line?.StartsWith('{') == true)
        {
            _summary.TrySetResult(line);
        }
    }

    /// <summary>The driver built in the same configuration as this test assembly (Release under scripts/test.sh).</summary>
    private static string DriverPath()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/{Configuration}/net10.0/
        var path = Path.Combine(RepoPaths.Root, "bench", "TagStatus.BudgetLoad", "bin", configuration, "net10.0", "TagStatus.BudgetLoad.dll");
        return File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: dotnet build bench/TagStatus.BudgetLoad -c {configuration}");
    }
}
