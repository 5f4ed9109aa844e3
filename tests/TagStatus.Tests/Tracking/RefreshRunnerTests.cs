using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Azure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Moq;
using TagStatus.Core.Refresh;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using TagStatus.Core.Secrets;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.Tests.Callbacks;
using TagStatus.Tests.Support;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Tracking;

public sealed class RefreshRunnerTests
{
    private readonly LookupFixture _f = new();
    private readonly Mock<ICallbackStore> _callbacks = new();
    private readonly Mock<ISecretSource> _secrets = new();
    private readonly TrackingOptions _options = new();
    private readonly FakeLogger<RefreshRunner> _logger = new();
    private readonly ConcurrentQueue<string> _upstreamCalls = new();
    private readonly ConcurrentQueue<(TagSummary Summary, ETag? ETag)> _summaries = new();
    private CallbackReceiver _receiver = CallbackReceiver.Answering(HttpStatusCode.OK);

    public RefreshRunnerTests()
    {
        _callbacks.Setup(c => c.GetDueDeliveriesAsync(It.IsAny<DateTimeOffset>(), It.IsAny<int>(), It.IsAny<CancellationToken>())).ReturnsAsync([]);
        _callbacks.Setup(c => c.RemoveDeliveryAsync(It.IsAny<PendingDelivery>(), It.IsAny<CancellationToken>())).ReturnsAsync(true);
        _callbacks.Setup(c => c.PostponeDeliveryAsync(It.IsAny<PendingDelivery>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>())).ReturnsAsync(true);
        _secrets.Setup(s => s.GetAsync(AppSecret.CallbackSigningKey, It.IsAny<CancellationToken>())).ReturnsAsync("key");
        _f.Store.Setup(s => s.SaveSummaryAsync(It.IsAny<TagSummary>(), It.IsAny<ETag?>(), It.IsAny<CancellationToken>()))
            .Callback((TagSummary summary, ETag? etag, CancellationToken _) => _summaries.Enqueue((summary, etag)))
            .Returns(Task.CompletedTask);

        // Tags refresh in parallel here: record the saves under a lock.
        _f.Store.Setup(s => s.SaveRefreshAsync(
                It.IsAny<IReadOnlyList<RecipientWrite>>(), It.IsAny<TagSummary>(), It.IsAny<ETag?>(), It.IsAny<IReadOnlyList<TagCompanionRow>>(), It.IsAny<CancellationToken>()))
            .Callback((IReadOnlyList<RecipientWrite> changed, TagSummary summary, ETag? etag, IReadOnlyList<TagCompanionRow> _, CancellationToken _) =>
            {
                lock (_f.Saved)
                {
                    _f.Saved.Add(new SavedRefresh(changed, summary, etag));
                }
            })
            .ReturnsAsync((IReadOnlyList<RecipientWrite> changed, TagSummary _, ETag? _, IReadOnlyList<TagCompanionRow> _, CancellationToken _) => changed.Count + 1);
    }

    private RefreshRunner Runner()
    {
        var tracking = new TrackingService(_f.Store.Object, _f.Refresher, _f.Rules, new NoTagChangeObserver(), _f.Time, NullLogger<TrackingService>.Instance);
        var dispatcher = new CallbackDispatcher(new HttpClient(_receiver), _callbacks.Object, _secrets.Object, Options.Create(new CallbackOptions()), _f.Time, NullLogger<CallbackDispatcher>.Instance);
        return new RefreshRunner(_f.Store.Object, _f.Refresher, tracking, dispatcher, Options.Create(_options), _f.Time, _logger);
    }

    /// <summary>Tracked pending tags, due now, in the order the index gives them.</summary>
    private void Due(params string[] tags)
    {
        _f.Store.Setup(s => s.GetDueTagsAsync(It.IsAny<DateTimeOffset>(), It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(tags.Select(t => new DueTag(Tag.Parse(t), _f.Now)).ToList());
        foreach (var tag in tags)
        {
            var summary = Summary(tag, TagState.Pending, new TagCounts(2, 0, 0, 2, 0), T0, T0.AddMinutes(50), tracked: true, nextRefreshAt: _f.Now);
            _f.Store.Setup(s => s.GetSummaryAsync(Tag.Parse(tag), It.IsAny<CancellationToken>())).ReturnsAsync(new StoredSummary(summary, new ETag($"{tag}-etag")));
            _f.Store.Setup(s => s.GetRecipientsAsync(Tag.Parse(tag), It.IsAny<CancellationToken>())).ReturnsAsync(
            [
                new StoredRecipient(Recipient("+33600000001", DeliveryStatus.Waiting), new ETag("r1")),
                new StoredRecipient(Recipient("+33600000002", DeliveryStatus.Waiting), new ETag("r2")),
            ]);
            Answers(tag, Upstream("+33600000001", "Delivered"), Upstream("+33600000002", "Waiting"));
        }
    }

    private void Answers(string tag, params UpstreamRecipient[] rows) =>
        _f.Client.Setup(c => c.GetStatusesByTagAsync(Tag.Parse(tag), It.IsAny<CancellationToken>()))
            .Callback(() => _upstreamCalls.Enqueue(tag))
            .ReturnsAsync(UpstreamPass.OnePage(rows, rows.Length));

    private void Fails(string tag, Exception e) =>
        _f.Client.Setup(c => c.GetStatusesByTagAsync(Tag.Parse(tag), It.IsAny<CancellationToken>()))
            .Callback(() => _upstreamCalls.Enqueue(tag))
            .ThrowsAsync(e);

    private static PendingDelivery OutboxRow(string eventId) =>
        new("alpha", eventId, TagEvent.Changed, "5ub5000000000000000000000000000a", new Uri("https://hooks.example.com/x"), Encoding.UTF8.GetBytes("{}"), 0, new ETag("d"));

    [Fact]
    public async Task Every_due_tag_is_refreshed_and_the_summary_adds_up()
    {
        Due("alpha", "beta", "gamma");

        var summary = await Runner().RunAsync(default);

        Assert.Equal(3, summary.TagsDue);
        Assert.Equal(3, summary.TagsRefreshed);
        Assert.Equal(3, summary.UpstreamCalls);
        Assert.Equal(0, summary.Failures);
        Assert.Equal(3, summary.RecipientsChanged);   // one recipient delivered per tag
        Assert.Equal(6, summary.RowsWritten);         // the fixture's store writes the changed rows plus the summary
        Assert.Equal(["alpha", "beta", "gamma"], _f.Saved.Select(s => s.Summary.Tag.Value).Order());
        Assert.All(_f.Saved, s => Assert.True(s.Summary.Tracked));
    }

    [Fact]
    public async Task Due_tags_are_read_as_of_now()
    {
        Due();

        await Runner().RunAsync(default);

        _f.Store.Verify(s => s.GetDueTagsAsync(_f.Now, It.Is<int>(max => max > 0), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task One_at_a_time_the_tags_are_refreshed_in_the_order_the_index_gives_oldest_due_first()
    {
        _options.MaxParallelism = 1;
        Due("gamma", "alpha", "beta");

        await Runner().RunAsync(default);

        Assert.Equal(["gamma", "alpha", "beta"], _upstreamCalls);
    }

    [Fact]
    public async Task No_more_tags_are_refreshed_at_once_than_the_parallelism_allows()
    {
        _options.MaxParallelism = 2;
        var tags = new[] { "t1", "t2", "t3", "t4", "t5", "t6" };
        Due(tags);
        int inFlight = 0, maxInFlight = 0, started = 0;
        var pairReady = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        foreach (var tag in tags)
        {
            _f.Client.Setup(c => c.GetStatusesByTagAsync(Tag.Parse(tag), It.IsAny<CancellationToken>()))
                .Returns(async (Tag _, CancellationToken ct) =>
                {
                    var now = Interlocked.Increment(ref inFlight);
                    InterlockedMax(ref maxInFlight, now);
                    if (now >= 2 || Interlocked.Increment(ref started) >= tags.Length)
                    {
                        pairReady.TrySetResult();
                    }

                    await pairReady.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
                    Interlocked.Decrement(ref inFlight);
                    return UpstreamPass.OnePage([Upstream("+33600000001", "Waiting")], 1);
                });
        }

        var summary = await Runner().RunAsync(default);

        Assert.Equal(6, summary.TagsRefreshed);
        Assert.Equal(2, maxInFlight);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    [Fact]
    public async Task A_failing_tag_is_counted_and_backed_off_while_the_others_are_refreshed()
    {
        Due("alpha", "broken", "gamma");
        Fails("broken", new SmsPartnerUnavailableException("SMS Partner timed out"));

        var summary = await Runner().RunAsync(default);

        Assert.Equal(3, summary.TagsDue);
        Assert.Equal(2, summary.TagsRefreshed);
        Assert.Equal(1, summary.Failures);
        Assert.Equal(3, summary.UpstreamCalls);
        Assert.Equal(["alpha", "gamma"], _f.Saved.Select(s => s.Summary.Tag.Value).Order());
        var (failed, etag) = Assert.Single(_summaries);
        Assert.Equal("broken", failed.Tag.Value);
        Assert.Equal(1, failed.FailedRefreshes);
        Assert.True(failed.NextRefreshAt > _f.Now);
        Assert.Equal(new ETag("broken-etag"), etag);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == 4202 && r.Message.Contains("broken", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_tag_whose_storage_write_fails_is_a_failure_like_any_other()
    {
        Due("alpha", "beta");
        _f.Store.Setup(s => s.GetRecipientsAsync(Tag.Parse("beta"), It.IsAny<CancellationToken>())).ThrowsAsync(new StoreUnavailableException("down"));

        var summary = await Runner().RunAsync(default);

        Assert.Equal(1, summary.TagsRefreshed);
        Assert.Equal(1, summary.Failures);
        Assert.Equal("beta", Assert.Single(_summaries).Summary.Tag.Value);
    }

    [Fact]
    public async Task A_failure_that_cannot_even_be_recorded_leaves_the_tag_due_and_the_run_going()
    {
        Due("alpha", "broken");
        Fails("broken", new SmsPartnerBadAnswerException("garbage"));
        _f.Store.Setup(s => s.SaveSummaryAsync(It.IsAny<TagSummary>(), It.IsAny<ETag?>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreUnavailableException("down"));

        var summary = await Runner().RunAsync(default);

        Assert.Equal(1, summary.TagsRefreshed);
        Assert.Equal(1, summary.Failures);
    }

    [Fact]
    public async Task A_replayed_run_finds_nothing_due_and_writes_nothing()
    {
        Due();

        var summary = await Runner().RunAsync(default);

        Assert.Equal(new RefreshRunSummary(0, 0, 0, 0, 0, 0, 0, 0, summary.Duration), summary);
        Assert.Empty(_f.Saved);
        Assert.Empty(_summaries);
        _f.VerifyNoUpstreamCall();
    }

    [Fact]
    public async Task Storage_out_of_reach_for_the_index_is_one_failure_and_the_outbox_is_still_delivered()
    {
        _f.Store.Setup(s => s.GetDueTagsAsync(It.IsAny<DateTimeOffset>(), It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreUnavailableException("down"));

        var summary = await Runner().RunAsync(default);

        Assert.Equal(0, summary.TagsDue);
        Assert.Equal(1, summary.Failures);
        _callbacks.Verify(c => c.GetDueDeliveriesAsync(It.IsAny<DateTimeOffset>(), It.IsAny<int>(), It.IsAny<CancellationToken>()), Times.Once);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == 4204);
    }

    [Fact]
    public async Task The_run_delivers_the_outbox_and_counts_what_was_and_was_not_delivered()
    {
        Due("alpha");
        _callbacks.Setup(c => c.GetDueDeliveriesAsync(It.IsAny<DateTimeOffset>(), It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync([OutboxRow("e1"), OutboxRow("e2"), OutboxRow("e3")]);
        _receiver = new CallbackReceiver((request, _) => new HttpResponseMessage(
            request.Headers.GetValues("X-TagStatus-Event-Id").Single() == "e3" ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK));

        var summary = await Runner().RunAsync(default);

        Assert.Equal(2, summary.CallbacksDelivered);
        Assert.Equal(1, summary.CallbacksFailed);
        Assert.Equal(1, summary.TagsRefreshed);
    }

    [Fact]
    public async Task An_outbox_that_cannot_be_delivered_does_not_fail_the_run()
    {
        Due("alpha");
        _callbacks.Setup(c => c.GetDueDeliveriesAsync(It.IsAny<DateTimeOffset>(), It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync([OutboxRow("e1")]);
        _secrets.Setup(s => s.GetAsync(AppSecret.CallbackSigningKey, It.IsAny<CancellationToken>()))
            .ThrowsAsync(new SecretUnavailableException(AppSecret.CallbackSigningKey, "callback-signing-key", "vault", "unreachable"));

        var summary = await Runner().RunAsync(default);

        Assert.Equal(1, summary.TagsRefreshed);
        Assert.Equal(0, summary.CallbacksDelivered);
        Assert.Equal(1, summary.CallbacksFailed);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == 4205);
    }

    [Fact]
    public async Task The_run_logs_one_structured_summary()
    {
        Due("alpha", "broken");
        Fails("broken", new SmsPartnerUnavailableException("down"));

        await Runner().RunAsync(default);

        var line = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Id.Id == 4201);
        var state = line.StructuredState!.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("2", state["TagsDue"]);
        Assert.Equal("1", state["TagsRefreshed"]);
        Assert.Equal("1", state["Failures"]);
    }

    [Fact]
    public async Task A_spent_budget_ends_the_run_leaves_the_rest_due_and_still_delivers_the_outbox()
    {
        _options.RunBudget = TimeSpan.FromMilliseconds(50);
        Due("slow");
        _f.Client.Setup(c => c.GetStatusesByTagAsync(Tag.Parse("slow"), It.IsAny<CancellationToken>()))
            .Returns(async (Tag _, CancellationToken ct) =>
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, ct);
                throw new InvalidOperationException("unreachable");
            });

        var run = Runner().RunAsync(default);
        _f.Time.Advance(TimeSpan.FromSeconds(1));
        var summary = await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, summary.TagsDue);
        Assert.Equal(0, summary.TagsRefreshed);
        Assert.Equal(0, summary.Failures);
        Assert.Empty(_summaries);   // not recorded as a failure: it stays due as it was
        Assert.Empty(_f.Saved);
        _callbacks.Verify(c => c.GetDueDeliveriesAsync(It.IsAny<DateTimeOffset>(), It.IsAny<int>(), It.IsAny<CancellationToken>()), Times.Once);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == 4203);
    }

    [Fact]
    public async Task The_budget_runs_on_the_injected_clock()
    {
        Due("slow");
        _f.Client.Setup(c => c.GetStatusesByTagAsync(Tag.Parse("slow"), It.IsAny<CancellationToken>()))
            .Returns(async (Tag _, CancellationToken ct) =>
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, ct);
                throw new InvalidOperationException("unreachable");
            });
        using var guard = new CancellationTokenSource();

        var run = Runner().RunAsync(guard.Token);
        _f.Time.Advance(_options.RunBudget + TimeSpan.FromSeconds(1));
        try
        {
            var summary = await run.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(0, summary.TagsRefreshed);
        }
        finally
        {
            await guard.CancelAsync();
        }
    }

    [Fact]
    public async Task A_host_shutdown_stops_the_run_without_recording_failures()
    {
        Due("alpha", "beta");
        using var shutdown = new CancellationTokenSource();
        await shutdown.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Runner().RunAsync(shutdown.Token));

        Assert.Empty(_summaries);
        Assert.Empty(_f.Saved);
    }
}
