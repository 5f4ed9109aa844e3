using System.Text;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Logging;
using SmsPartner.Simulator;
using TagStatus.Api;
using TagStatus.Api.Handlers;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Queues;
using TagStatus.Core.Tracking;
using TagStatus.Core.SmsPartner.Budget;

namespace TagStatus.IntegrationTests.Support;

/// <summary>
/// The app as the hosts compose it (<see cref="ApiServiceCollectionExtensions.AddTagStatusApi"/>), over real Azurite and
/// the simulator on loopback, with a fake clock and every log record captured.
/// </summary>
public sealed class AppHarness : IAsyncDisposable
{
    public const string SigningKey = "test-signing-key-0123456789";

    private AppHarness(RunningSimulator simulator, ServiceProvider services, ManualClock clock, string tablePrefix, ClockedWorkQueue queue)
    {
        Simulator = simulator;
        Services = services;
        Clock = clock;
        TablePrefix = tablePrefix;
        Queue = queue;
    }

    /// <summary>The refresh and callbacks queues, on <see cref="Clock"/>.</summary>
    public ClockedWorkQueue Queue { get; }

    public RunningSimulator Simulator { get; }

    public ServiceProvider Services { get; }

    public ManualClock Clock { get; }

    public string TablePrefix { get; }

    public FakeLogCollector Logs => Services.GetFakeLogCollector();

    public T Get<T>()
        where T : notnull => Services.GetRequiredService<T>();

    /// <summary>Starts a simulator and composes the app against it and Azurite.</summary>
    /// <param name="services">Registrations made before the app's own (which add theirs only when none is there).</param>
    public static async Task<AppHarness> StartAsync(
        AzuriteFixture azurite, Action<IDictionary<string, string?>>? configure = null, SimulatorOptions? simulatorOptions = null, RecordingPolicy? storagePolicy = null,
        Action<ILoggingBuilder>? logging = null, Action<IServiceCollection>? services = null)
    {
        var simulator = await SimulatorApp.StartAsync(simulatorOptions ?? new SimulatorOptions());
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));
        return Compose(azurite, simulator, AzuriteFixture.UniquePrefix(), clock, new ClockedWorkQueue(clock), configure, storagePolicy, logging, services);
    }

    /// <summary>A second app over the same simulator and tables: what a restarted worker sees.</summary>
    public AppHarness Restart(AzuriteFixture azurite, Action<IDictionary<string, string?>>? configure = null) =>
        Compose(azurite, Simulator, TablePrefix, Clock, Queue, configure);

    /// <summary>Moves our clock and the simulator's together, as real time would.</summary>
    public void Advance(TimeSpan by)
    {
        Clock.Advance(by);
        Simulator.State.AdvanceClock(by);
    }

    /// <summary>
    /// What the host does in a minute: the timer run (<c>RefreshPendingTags</c>), then every visible refresh message
    /// (<c>RefreshTag</c>), then every visible delivery message (<c>DeliverCallback</c>), the way the queue triggers do.
    /// </summary>
    public async Task<(RefreshRunSummary Run, IReadOnlyList<QueuedRefreshOutcome> Refreshes, IReadOnlyList<DeliveryOutcome> Deliveries)> RunTimerAndQueuesAsync()
    {
        var run = await Get<RefreshRunner>().RunAsync(default);
        var refreshes = new List<QueuedRefreshOutcome>();
        foreach (var message in Queue.TakeRefreshes())
        {
            refreshes.Add(await Get<RefreshQueueProcessor>().ProcessAsync(message, default));
        }

        return (run, refreshes, await DeliverQueuedAsync());
    }

    /// <summary>Every visible delivery message, as <c>DeliverCallback</c> takes them.</summary>
    public async Task<IReadOnlyList<DeliveryOutcome>> DeliverQueuedAsync()
    {
        var deliveries = new List<DeliveryOutcome>();
        foreach (var message in Queue.TakeDeliveries())
        {
            deliveries.Add(await Get<CallbackDispatcher>().DeliverAsync(message, default));
        }

        return deliveries;
    }

    private static AppHarness Compose(
        AzuriteFixture azurite, RunningSimulator simulator, string prefix, ManualClock clock, ClockedWorkQueue queue,
        Action<IDictionary<string, string?>>? configure, RecordingPolicy? storagePolicy = null, Action<ILoggingBuilder>? logging = null,
        Action<IServiceCollection>? registrations = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["TagStorage:ConnectionString"] = azurite.ConnectionString,
            ["TagStorage:TablePrefix"] = prefix,
            ["SmsPartner:BaseUrl"] = simulator.BaseUri.ToString(),
            ["SmsPartner:ApiKey"] = simulator.ApiKey,
            ["SmsPartner:RetryBaseDelay"] = "00:00:00.020",
            ["SmsPartner:AttemptTimeout"] = "00:00:02",
            ["SmsPartner:TotalTimeout"] = "00:00:10",
            ["SmsPartner:RequestsPerSecond"] = "1000",
            ["SmsPartner:BudgetBatchSize"] = "50",
            ["SmsPartner:MaxPages"] = "1000",
            ["Callbacks:SigningKey"] = SigningKey,
            ["Callbacks:AllowInsecureUrls"] = "true",
            ["Callbacks:FirstRetryDelay"] = "00:00:30",
            ["Lookup:WaitForRefreshSeconds"] = "0",
        };
        configure?.Invoke(settings);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        var services = new ServiceCollection();
        // Every record by default; a test of the hosts' own filters passes them as logging.
        services.AddLogging(builder => (logging ?? (b => b.SetMinimumLevel(LogLevel.Trace)))(builder.AddFakeLogging()));
        services.AddSingleton<TimeProvider>(clock);
        // The shared call budget refills on real time: on the manual clock no token would ever come back.
        services.AddKeyedSingleton<TimeProvider>(UpstreamBudget.ClockKey, TimeProvider.System);
        registrations?.Invoke(services);
        services.AddTagStatusApi(configuration);
        services.AddSingleton<IWorkQueue>(queue);
        services.AddSingleton<IQueueLengths>(queue);
        if (storagePolicy is not null)
        {
            services.ConfigureAll<TableClientOptions>(options => options.AddPolicy(storagePolicy, HttpPipelinePosition.PerCall));
        }

        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        return new AppHarness(simulator, provider, clock, prefix, queue);
    }

    /// <summary><c>GET /api/tags/{tag}{query}</c> through the real handler and result, as the Functions host runs them.</summary>
    public Task<HttpAnswer> GetTagAsync(string tag, string query = "", Action<HttpRequest>? configure = null) =>
        CallAsync("/api/tags/" + Uri.EscapeDataString(tag), query, configure, request => Get<TagLookupHandler>().GetAsync(request, tag, default));

    /// <summary><c>GET /api/tags/{tag}/completion</c> through the real handler.</summary>
    public Task<HttpAnswer> GetCompletionAsync(string tag) =>
        CallAsync($"/api/tags/{Uri.EscapeDataString(tag)}/completion", "", null, request => Get<TrackingHandler>().CompletionAsync(request, tag, default));

    /// <summary><c>DELETE /api/deadletters/{id}</c> through the real handler.</summary>
    public Task<HttpAnswer> DeleteDeadLetterAsync(string id) =>
        CallAsync($"/api/deadletters/{Uri.EscapeDataString(id)}", "", request => request.Method = "DELETE", _ => Get<DeadLetterHandler>().DeleteAsync(id, default));

    private static async Task<HttpAnswer> CallAsync(string path, string query, Action<HttpRequest>? configure, Func<HttpRequest, Task<IActionResult>> handle)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("tags.example.net");
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query);
        configure?.Invoke(context.Request);
        var body = new MemoryStream();
        context.Response.Body = body;

        var result = await handle(context.Request);
        await result.ExecuteResultAsync(new ActionContext { HttpContext = context });
        return new HttpAnswer(context.Response.StatusCode, context.Response.Headers, body.ToArray());
    }

    /// <summary>Every captured log line, message and exception text, for secret checks.</summary>
    public string AllLogText() => string.Join('\n', Logs.GetSnapshot().Select(r => $"{r.Category} {r.Message} {r.Exception}"));

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Simulator.DisposeAsync();
    }
}

/// <summary>An HTTP answer as a handler wrote it.</summary>
public sealed record HttpAnswer(int Status, IHeaderDictionary Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);

    public JsonNode Json => JsonNode.Parse(Body) ?? throw new InvalidOperationException("JSON null");
}
