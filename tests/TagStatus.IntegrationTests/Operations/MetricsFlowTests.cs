using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using SmsPartner.Simulator;
using TagStatus.Core.Domain;
using TagStatus.Core.Lookup;
using TagStatus.Core.Operations;
using TagStatus.Core.Tracking;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.IntegrationTests.Operations;

/// <summary>
/// Each of the app's metrics moves when its event happens, over real Azurite and the simulator, collected in memory from
/// the app's own meter factory (<see cref="TagStatusMetrics"/>). The callback metric has its unit tests
/// (CallbackDispatcherTests), where every outcome can be scripted.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class MetricsFlowTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly Tag Campaign = Tag.Parse("metered");
    private AppHarness _app = null!;

    public async Task InitializeAsync()
    {
        _app = await AppHarness.StartAsync(azurite);
        _app.Simulator.State.SeedTag(Campaign.Value,
        [
            new RecipientSeed { PhoneNumber = "+33600000001", Status = SmsStatuses.Delivered },
            new RecipientSeed { PhoneNumber = "+33600000002", Status = SmsStatuses.Waiting },
        ]);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private MetricCollector<T> Collect<T>(string instrument)
        where T : struct => new(_app.Get<IMeterFactory>(), TagStatusMetrics.MeterName, instrument);

    [Fact]
    public async Task A_timer_run_records_the_backlog_its_lateness_and_the_queue_lengths()
    {
        await _app.Get<TrackingService>().RegisterAsync(Campaign, default);
        using var backlog = Collect<long>("tagstatus.refresh.backlog");
        using var lateness = Collect<double>("tagstatus.refresh.backlog.oldest_lateness");
        using var queues = Collect<long>("tagstatus.queue.length");

        _app.Advance(TimeSpan.FromMinutes(3));
        await _app.Get<RefreshRunner>().RunAsync(default);

        Assert.Equal(1, backlog.LastMeasurement?.Value);
        Assert.InRange(lateness.LastMeasurement!.Value, 60, 180);
        var refreshQueue = Assert.Single(queues.GetMeasurementSnapshot(), m => Equals(m.Tags["messaging.destination.name"], ClockedWorkQueue.RefreshQueueName));
        Assert.Equal(1, refreshQueue.Value);

        // Once it is refreshed, nothing is due: the backlog falls to zero, and so does its lateness.
        foreach (var message in _app.Queue.TakeRefreshes())
        {
            await _app.Get<RefreshQueueProcessor>().ProcessAsync(message, default);
        }

        await _app.Get<RefreshRunner>().RunAsync(default);
        Assert.Equal(0, backlog.LastMeasurement?.Value);
        Assert.Equal(0, lateness.LastMeasurement?.Value);
    }

    [Fact]
    public async Task A_queued_refresh_records_its_lag_by_age_band_its_pages_and_the_rows_it_wrote()
    {
        await _app.Get<TrackingService>().RegisterAsync(Campaign, default);
        using var lag = Collect<double>("tagstatus.refresh.lag");
        using var pages = Collect<int>("tagstatus.refresh.pages");
        using var rows = Collect<long>("tagstatus.store.rows_written");

        _app.Advance(TimeSpan.FromMinutes(3));
        var minute = await _app.RunTimerAndQueuesAsync();

        Assert.Equal([QueuedRefreshOutcome.Refreshed], minute.Refreshes);
        var measured = Assert.Single(lag.GetMeasurementSnapshot());
        Assert.Equal("under 10m", measured.Tags["tagstatus.tag.age_band"]);
        Assert.InRange(measured.Value, 60, 180);
        Assert.Equal(1, Assert.Single(pages.GetMeasurementSnapshot()).Value);
        Assert.True(rows.GetMeasurementSnapshot().Sum(m => m.Value) > 0, "a refresh writes at least its summary");
    }

    [Fact]
    public async Task Upstream_attempts_are_counted_by_status_and_a_429_shows_as_one()
    {
        using var requests = Collect<long>("tagstatus.upstream.requests");
        _app.Simulator.State.QueueFault(FaultKind.TooManyRequests, count: 1, tag: Campaign.Value);

        Assert.IsType<LookupResult.Found>(await _app.Get<TagLookupService>().LookupAsync(Campaign, TimeSpan.FromMinutes(1), default));

        var byStatus = requests.GetMeasurementSnapshot().GroupBy(m => m.Tags["http.response.status_code"]).ToDictionary(g => g.Key!, g => g.Sum(m => m.Value));
        Assert.Equal(1, byStatus[429]);
        Assert.True(byStatus[200] >= 1, "the retry after the 429 succeeds");
    }

    [Fact]
    public async Task The_health_numbers_are_the_backlog_and_the_queues_now()
    {
        await _app.Get<TrackingService>().RegisterAsync(Campaign, default);
        _app.Advance(TimeSpan.FromMinutes(3));

        var before = await _app.Get<OperationsMonitor>().ObserveAsync(default);
        await _app.Get<RefreshRunner>().RunAsync(default);
        var after = await _app.Get<OperationsMonitor>().ObserveAsync(default);

        Assert.Equal(1, before.DueTags);
        Assert.False(before.DueTagsCapped);
        Assert.InRange(before.OldestLateness, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(3));
        Assert.Equal(0, Assert.Single(before.Queues, q => q.Queue == ClockedWorkQueue.RefreshQueueName).Messages);
        // Queued: no longer due, and waiting in the refresh queue.
        Assert.Equal(0, after.DueTags);
        Assert.Equal(TimeSpan.Zero, after.OldestLateness);
        Assert.Equal(1, Assert.Single(after.Queues, q => q.Queue == ClockedWorkQueue.RefreshQueueName).Messages);
    }
}
