namespace TagStatus.FaultTests.Support;

/// <summary>The app in its own process(es), on either host, whose worker a test can kill and get back.</summary>
public sealed class CrashableWorker : IAsyncDisposable
{
    private readonly LocalHostProcess? _localHost;
    private readonly FunctionsHostProcess? _functionsHost;

    private CrashableWorker(LocalHostProcess? localHost, FunctionsHostProcess? functionsHost)
    {
        _localHost = localHost;
        _functionsHost = functionsHost;
    }

    /// <summary>What the processes wrote, for the secret scan.</summary>
    public string Output => _localHost?.Output ?? _functionsHost!.Output;

    /// <param name="host"><c>localhost</c> or <c>functions-host</c> (FUNCTIONS_HOST_RUNNER).</param>
    public static async Task<CrashableWorker> StartAsync(string host, string storage, string functionKey, IReadOnlyDictionary<string, string> settings) => host switch
    {
        "localhost" => new CrashableWorker(await LocalHostProcess.StartAsync(settings), null),
        "functions-host" => new CrashableWorker(null, await FunctionsHostProcess.StartAsync(FunctionsHostProcess.Runner!, storage, functionKey, settings)),
        _ => throw new ArgumentOutOfRangeException(nameof(host), host, "localhost or functions-host"),
    };

    public HttpClient CreateClient(string functionKey) => _localHost?.CreateClient(functionKey) ?? _functionsHost!.CreateClient(functionKey);

    /// <summary>
    /// SIGKILL to the worker, <paramref name="whileDown"/>, then a worker again: the LocalHost started again on its port,
    /// or the Functions host's replacement worker serving.
    /// </summary>
    public async Task KillWorkerAsync(Action whileDown)
    {
        if (_localHost is not null)
        {
            _localHost.Kill();
            whileDown();
            await _localHost.RestartAsync();
        }
        else
        {
            _functionsHost!.KillWorker();
            whileDown();
            await _functionsHost.WaitReadyAsync(TimeSpan.FromSeconds(120));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_localHost is not null)
        {
            await _localHost.DisposeAsync();
        }

        if (_functionsHost is not null)
        {
            await _functionsHost.DisposeAsync();
        }
    }
}
