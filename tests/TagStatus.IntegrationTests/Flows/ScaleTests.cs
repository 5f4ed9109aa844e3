using System.Text.RegularExpressions;
using Azure.Data.Tables;
using SmsPartner.Simulator;
using TagStatus.Core.Domain;
using TagStatus.Core.Lookup;
using TagStatus.Core.Queues;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.IntegrationTests.Flows;

/// <summary>
/// Cost follows the work that is due, never history: every request of a timer run, a queue refresh and a lookup,
/// recorded on the storage clients, queries one partition by key; and a year of settled tags changes nothing a timer
/// run sends. Plus the races and faults of the fan-out: messages twice, runs at once, a schedule write failing.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed partial class ScaleTests(AzuriteFixture azurite)
{
    private const int DueTags = 100;
    private const int SettledHistory = 50_000;

    [Fact]
    public async Task Every_query_of_the_timer_the_queue_refresh_and_a_lookup_names_its_partition_and_filters_only_on_keys()
    {
        var recorder = new RecordingPolicy();
        await using var app = await AppHarness.StartAsync(azurite, storagePolicy: recorder);
        var tags = await RegisterWaitingAsync(app, DueTags);
        app.Advance(TimeSpan.FromMinutes(2));
        recorder.Clear();

        var minute = await app.RunTimerAndQueuesAsync();
        await app.Get<TagLookupService>().LookupAsync(tags[0], TimeSpan.Zero, default);

        Assert.Equal(DueTags, minute.Run.TagsQueued);
        var queries = recorder.TableQueries();
        Assert.NotEmpty(queries);
        Assert.All(queries, query => Assert.True(KeysOnly().IsMatch(query.Filter), $"{query.Table}: '{query.Filter}' is not a key lookup"));
    }

    [Fact]
    public async Task A_year_of_settled_tags_changes_nothing_a_timer_run_sends()
    {
        var fresh = await TimerRunRequestsAsync(settledHistory: 0);
        var aged = await TimerRunRequestsAsync(settledHistory: SettledHistory);

        Assert.Equal(fresh.Count, aged.Count);
        Assert.Equal(fresh, aged);
    }

    [Fact]
    public async Task A_refresh_message_delivered_twice_reads_upstream_once_and_writes_no_duplicate()
    {
        await using var app = await AppHarness.StartAsync(azurite);
        var tag = (await RegisterWaitingAsync(app, 1, recipients: 3))[0];
        app.Advance(TimeSpan.FromMinutes(2));
        await app.Get<RefreshRunner>().RunAsync(default);
        var message = Assert.Single(app.Queue.TakeRefreshes());
        var calls = app.Simulator.State.StatusRequests;

        var first = await app.Get<RefreshQueueProcessor>().ProcessAsync(message, default);
        var again = await app.Get<RefreshQueueProcessor>().ProcessAsync(message, default);

        Assert.Equal(QueuedRefreshOutcome.Refreshed, first);
        Assert.Equal(QueuedRefreshOutcome.Dropped, again);
        Assert.Equal(calls + 1, app.Simulator.State.StatusRequests);
        await AssertCountsEqualRowsAsync(app, tag, 3);
    }

    [Fact]
    public async Task A_queued_refresh_of_a_small_tag_reads_its_summary_once_and_never_touches_the_passes_table()
    {
        var recorder = new RecordingPolicy();
        await using var app = await AppHarness.StartAsync(azurite, storagePolicy: recorder);
        var tag = (await RegisterWaitingAsync(app, 1, recipients: 3))[0];
        app.Advance(TimeSpan.FromMinutes(2));
        await app.Get<RefreshRunner>().RunAsync(default);
        var message = Assert.Single(app.Queue.TakeRefreshes());
        recorder.Clear();

        Assert.Equal(QueuedRefreshOutcome.Refreshed, await app.Get<RefreshQueueProcessor>().ProcessAsync(message, default));

        var requests = recorder.Requests.ToList();
        var summaryReads = requests.Count(r => r.Method == "GET" && Uri.UnescapeDataString(r.Uri.AbsolutePath).Contains("Tags(PartitionKey=", StringComparison.Ordinal)
            && Uri.UnescapeDataString(r.Uri.AbsolutePath).Contains($"RowKey='{TableKeys.SummaryRow}'", StringComparison.Ordinal));
        Assert.Equal(1, summaryReads);
        Assert.DoesNotContain(requests, r => r.Uri.AbsolutePath.Contains("Passes", StringComparison.Ordinal));
        await AssertCountsEqualRowsAsync(app, tag, 3);
    }

    [Fact]
    public async Task Two_timer_runs_at_once_queue_each_due_tag_once()
    {
        await using var app = await AppHarness.StartAsync(azurite);
        var tags = await RegisterWaitingAsync(app, 20);
        app.Advance(TimeSpan.FromMinutes(2));

        var runs = await Task.WhenAll(app.Get<RefreshRunner>().RunAsync(default), app.Get<RefreshRunner>().RunAsync(default));

        var queued = app.Queue.TakeRefreshes();
        Assert.Equal(20, runs.Sum(r => r.TagsQueued));
        Assert.Equal(tags.Select(t => t.Value).Order(), queued.Select(m => m.Tag).Order());
    }

    [Fact]
    public async Task A_schedule_write_that_fails_leaves_the_tag_due_and_its_summary_unwritten_until_it_recovers()
    {
        var recorder = new RecordingPolicy();
        await using var app = await AppHarness.StartAsync(azurite, storagePolicy: recorder);
        var tag = (await RegisterWaitingAsync(app, 1, recipients: 2, settleAfterSeconds: 600))[0]; // still waiting at the first refresh, settled by the second
        var before = await app.Get<ITagStore>().GetSummaryAsync(tag, default);
        app.Advance(TimeSpan.FromMinutes(2));
        await app.Get<RefreshRunner>().RunAsync(default);

        // Every write of a schedule row fails while the refresh runs: the due row is written first, so nothing after it is.
        recorder.FailWhen = (method, uri) => method is "PUT" or "PATCH" or "MERGE" && Uri.UnescapeDataString(uri.AbsolutePath).Contains("TagIndex(PartitionKey='due'", StringComparison.Ordinal);
        await Assert.ThrowsAsync<StoreUnavailableException>(() => app.Get<RefreshQueueProcessor>().ProcessAsync(Assert.Single(app.Queue.TakeRefreshes()), default));
        recorder.FailWhen = null;

        Assert.Equal(before!.ETag, (await app.Get<ITagStore>().GetSummaryAsync(tag, default))!.ETag);
        // The claimed row stays, so the tag comes due again when its lease ends, and then completes.
        app.Advance(TimeSpan.FromMinutes(11));
        var recovered = await app.RunTimerAndQueuesAsync();
        Assert.Equal([QueuedRefreshOutcome.Refreshed], recovered.Refreshes);
        Assert.Equal(TagState.Complete, (await app.Get<ITagStore>().GetSummaryAsync(tag, default))!.Summary.State);
        await AssertCountsEqualRowsAsync(app, tag, 2);
    }

    /// <summary>The timer run's requests, made comparable across harnesses: table, method and filter, keys masked.</summary>
    private async Task<List<string>> TimerRunRequestsAsync(int settledHistory)
    {
        var recorder = new RecordingPolicy();
        await using var app = await AppHarness.StartAsync(azurite, storagePolicy: recorder);
        await RegisterWaitingAsync(app, DueTags);
        await AddSettledHistoryAsync(app, settledHistory);
        app.Advance(TimeSpan.FromMinutes(2));
        recorder.Clear();

        var run = await app.Get<RefreshRunner>().RunAsync(default);

        Assert.Equal(DueTags, run.TagsQueued);
        return recorder.Requests
            .Select(r => $"{r.Method} {Mask(r.Uri.AbsolutePath.Replace(app.TablePrefix, string.Empty, StringComparison.Ordinal))} {Mask(Uri.UnescapeDataString(r.Uri.Query))}")
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Settled tags first seen over the past year, as their listing rows (what the old due query scanned).</summary>
    private static async Task AddSettledHistoryAsync(AppHarness app, int count)
    {
        var table = app.Get<TableServiceClient>().GetTableClient(app.TablePrefix + "TagIndex");
        var start = app.Clock.GetUtcNow().AddDays(-365);
        var batches = Enumerable.Range(0, count).Chunk(100).Select(chunk => chunk.Select(i =>
        {
            var firstSeen = start.AddMinutes(i * 10);
            return new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity("tracked", $"{DateTimeOffset.MaxValue.UtcTicks - firstSeen.UtcTicks:D19}~old{i}")
            {
                ["Tag"] = $"old-{i}",
                ["State"] = "complete",
                ["Tracked"] = true,
                ["Total"] = 20,
                ["Delivered"] = 20,
                ["FirstSeenAt"] = firstSeen,
                ["RefreshedAt"] = firstSeen.AddHours(1),
            });
        }).ToList());
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (batch, ct) => await table.SubmitTransactionAsync(batch, ct));
    }

    private static async Task<IReadOnlyList<Tag>> RegisterWaitingAsync(AppHarness app, int count, int recipients = 1, int settleAfterSeconds = 100_000)
    {
        var tags = Enumerable.Range(0, count).Select(i => Tag.Parse($"due-{i:D4}")).ToList();
        foreach (var tag in tags)
        {
            app.Simulator.State.SeedTag(tag.Value, Enumerable.Range(1, recipients)
                .Select(n => new RecipientSeed { PhoneNumber = $"+336{n:D8}", Status = SmsStatuses.Waiting, SettleAfterSeconds = settleAfterSeconds })
                .ToList());
            await app.Get<TrackingService>().RegisterAsync(tag, default);
        }

        return tags;
    }

    private static async Task AssertCountsEqualRowsAsync(AppHarness app, Tag tag, int expectedRows)
    {
        var store = app.Get<ITagStore>();
        var summary = (await store.GetSummaryAsync(tag, default))!.Summary;
        var rows = await store.GetRecipientsAsync(tag, default);
        Assert.Equal(expectedRows, rows.Count);
        Assert.Equal(rows.Count, summary.Counts.Total);
        Assert.Equal(rows.Count(r => r.Recipient.Status == DeliveryStatus.Waiting), summary.Counts.Waiting);
    }

    /// <summary>Timestamps, tags and ids differ run to run; the shape of the request does not.</summary>
    private static string Mask(string text) => Volatile().Replace(text, "#");

    /// <summary>PartitionKey equality, then nothing or RowKey bounds: what a key lookup or key range looks like.</summary>
    [GeneratedRegex(@"^\(?PartitionKey eq '[^']*'\)?( and \(?RowKey (ge|gt|lt|le) '[^']*'\)?)*$")]
    private static partial Regex KeysOnly();

    [GeneratedRegex(@"'[^']*'|\d{4}-\d\d-\d\dT[\d:.]+Z|[0-9a-f]{32}|[A-Za-z0-9_-]{8,}={0,2}")]
    private static partial Regex Volatile();
}
