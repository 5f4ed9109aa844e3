using Azure;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using TagStatus.Core.Refresh;
using TagStatus.Core.Domain;
using TagStatus.Core.Queues;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.Tests.Support;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Tracking;

public sealed class TrackingServiceTests
{
    private static readonly Tag MonTag = LookupFixture.MonTag;

    private readonly LookupFixture _f = new();
    private readonly List<(TagSummary Summary, ETag? ETag)> _summaries = [];

    public TrackingServiceTests()
    {
        _f.Store.Setup(s => s.SaveSummaryAsync(It.IsAny<TagSummary>(), It.IsAny<ETag?>(), It.IsAny<CancellationToken>()))
            .Callback((TagSummary summary, ETag? etag, CancellationToken _) => _summaries.Add((summary, etag)))
            .Returns(Task.CompletedTask);
    }

    private TrackingService Service => new(_f.Store.Object, _f.InlineRead, _f.Rules, new NoTagChangeObserver(), _f.Time, NullLogger<TrackingService>.Instance);

    /// <summary>A stored summary as the store gives it back, with its ETag.</summary>
    private static readonly TimeSpan RecheckEvery = new TrackingOptions().RecheckEvery;

    private TagSummary StoredSummary(TagState state, bool tracked, int failedRefreshes = 0, DateTimeOffset? nextRefreshAt = null, string etag = "summary-1")
    {
        var summary = Summary("montag", state, state == TagState.Complete ? new TagCounts(2, 2, 0, 0, 0) : new TagCounts(2, 1, 0, 1, 0),
            T0, T0.AddMinutes(30), tracked, state == TagState.Complete ? T0.AddMinutes(5) : null, nextRefreshAt) with { FailedRefreshes = failedRefreshes };
        _f.Store.Setup(s => s.GetSummaryAsync(MonTag, It.IsAny<CancellationToken>())).ReturnsAsync(new StoredSummary(summary, new ETag(etag)));
        return summary;
    }

    private void VerifyNoWrite()
    {
        Assert.Empty(_summaries);
        Assert.Empty(_f.Saved);
    }

    // ---- Register ----

    [Fact]
    public async Task A_new_tag_is_read_live_and_stored_tracked()
    {
        _f.Upstream(Upstream("+33600000001", "Delivered"), Upstream("+33600000002", "Waiting"));

        var summary = await Service.RegisterAsync(MonTag, default);

        var saved = Assert.Single(_f.Saved);
        Assert.True(saved.Summary.Tracked);
        Assert.Null(saved.ExpectedETag);
        Assert.Equal(TagState.Pending, summary.State);
        Assert.True(summary.Tracked);
        Assert.Equal(new TagCounts(2, 1, 0, 1, 0, OptedOut: 0), summary.Counts);
        Assert.Equal(_f.Now.AddMinutes(1), summary.NextRefreshAt);
        Assert.Empty(_summaries);
    }

    [Fact]
    public async Task A_new_tag_bigger_than_a_caller_waits_for_is_tracked_and_its_open_pass_handed_to_the_refresh_queue()
    {
        // 12 pages: more than the 10 a registration reads while its caller waits. It used to read every page inline (up to
        // SmsPartner:MaxPages, 5,000 for a 100,000-recipient tag) and hold them all.
        var pages = Enumerable.Range(0, 12).Select(p => (IReadOnlyList<UpstreamRecipient>)[Upstream($"+336{p:D8}", "Waiting")]).ToArray();
        _f.Upstream(UpstreamPass.Of(12, PassEnd.ReachedTotal, pages));
        var writes = new List<string>();
        _f.Store.Setup(s => s.SaveSummaryAsync(It.IsAny<TagSummary>(), It.IsAny<ETag?>(), It.IsAny<CancellationToken>()))
            .Callback((TagSummary summary, ETag? _, CancellationToken _) => writes.Add($"summary due {summary.NextRefreshAt:O}")).Returns(Task.CompletedTask);
        _f.Store.Setup(s => s.HoldInFlightAsync(MonTag, It.IsAny<DateTimeOffset>(), It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .Callback((Tag _, DateTimeOffset until, int _, CancellationToken _) => writes.Add($"hold {until:O}"))
            .ReturnsAsync((Tag tag, DateTimeOffset until, int pages, CancellationToken _) => new DueTag(tag, until, pages, Claimed: true));

        var summary = await Service.RegisterAsync(MonTag, default);

        // The summary's unclaimed schedule row first, then the hold that claims the same row: the timer counts the queued
        // read in flight (the other order left an unclaimed row where the hold was).
        var heldUntil = _f.Now + _f.Tracking.RefreshLease;
        Assert.Equal([$"summary due {heldUntil:O}", $"hold {heldUntil:O}"], writes);
        Assert.True(summary.Partial); // no recipient counted yet, and it says why

        _f.Client.Verify(c => c.ContinuePassAsync(MonTag, It.IsAny<UpstreamPass>(), _f.LookupOptions.MaxInlinePages, It.IsAny<CancellationToken>()), Times.Once);
        _f.Client.Verify(c => c.GetStatusesByTagAsync(It.IsAny<Tag>(), It.IsAny<CancellationToken>()), Times.Never);
        _f.Passes.Verify(p => p.SaveAsync(MonTag, It.Is<UpstreamPass>(pass => pass.PagesRead == _f.LookupOptions.MaxInlinePages), 0, It.IsAny<DateTimeOffset>(), null, It.IsAny<CancellationToken>()), Times.Once);
        _f.Queue.Verify(q => q.EnqueueRefreshAsync(It.Is<RefreshMessage>(m => m.Tag == "montag" && m.FollowUp && m.Requested), It.IsAny<CancellationToken>()), Times.Once);
        Assert.Empty(_f.Saved); // nothing merged from a pass that has not ended
        Assert.True(summary.Tracked);
        Assert.Equal(TagState.Pending, summary.State);
        Assert.Equal(_f.Now + _f.Tracking.RefreshLease, summary.NextRefreshAt); // when the queued read's hold runs out, not now: no second read at once
    }

    [Fact]
    public async Task A_big_tag_under_an_expired_name_restarts_it_before_registering_so_the_queued_read_merges_a_new_tag()
    {
        var old = Summary("montag", TagState.Complete, new TagCounts(2, 2, 0, 0, 0), T0.AddMonths(-14), T0.AddMonths(-14), tracked: false, T0.AddMonths(-14), null);
        var expired = new StoredSummary(old, new ETag("old")) { RecipientsExpired = true };
        _f.Store.SetupSequence(s => s.GetSummaryAsync(MonTag, It.IsAny<CancellationToken>())).ReturnsAsync(expired).ReturnsAsync((StoredSummary?)null);
        var pages = Enumerable.Range(0, 12).Select(p => (IReadOnlyList<UpstreamRecipient>)[Upstream($"+336{p:D8}", "Waiting")]).ToArray();
        _f.Upstream(UpstreamPass.Of(12, PassEnd.ReachedTotal, pages));
        var retention = new Mock<IRetentionStore>();
        var service = new TrackingService(_f.Store.Object, _f.InlineRead, _f.Rules, new NoTagChangeObserver(), _f.Time, NullLogger<TrackingService>.Instance, retention.Object);

        var summary = await service.RegisterAsync(MonTag, default);

        retention.Verify(r => r.RestartExpiredTagAsync(expired, It.IsAny<CancellationToken>()), Times.Once);
        var (saved, etag) = Assert.Single(_summaries);
        Assert.Null(etag); // a new summary, not the old one marked tracked
        Assert.Equal((TagState.Pending, true, 0), (saved.State, saved.Tracked, saved.Counts.Total));
        Assert.Equal(saved, summary);
    }

    [Fact]
    public async Task A_new_tag_already_complete_is_tracked_until_its_re_check()
    {
        _f.Upstream(Upstream("+33600000001", "Delivered"));

        var summary = await Service.RegisterAsync(MonTag, default);

        // Issue 12 changed this: a settled tag is read again every Tracking:RecheckEvery (it had no next refresh).
        Assert.Equal(TagState.Complete, summary.State);
        Assert.True(summary.Tracked);
        Assert.Equal(_f.Now + RecheckEvery, summary.NextRefreshAt);
    }

    [Theory]
    [InlineData("unavailable")]
    [InlineData("not-found")]
    [InlineData("bad-answer")]
    public async Task An_upstream_failure_still_registers_a_pending_tracked_summary_due_now(string failure)
    {
        _f.UpstreamFails(failure switch
        {
            "unavailable" => new SmsPartnerUnavailableException("down"),
            "not-found" => new SmsPartnerRefusedException(SmsPartnerRefusedException.MessageNotFound, "Message not found"),
            _ => new SmsPartnerBadAnswerException("garbage"),
        });

        var summary = await Service.RegisterAsync(MonTag, default);

        var (saved, etag) = Assert.Single(_summaries);
        Assert.Null(etag);
        Assert.Equal(summary, saved);
        Assert.Equal(MonTag, saved.Tag);
        Assert.Equal(TagState.Pending, saved.State);
        Assert.True(saved.Tracked);
        Assert.Equal(TagCounts.Empty, saved.Counts);
        Assert.Equal(_f.Now, saved.FirstSeenAt);
        Assert.Equal(_f.Now, saved.NextRefreshAt);
        Assert.Empty(_f.Saved);
    }

    [Fact]
    public async Task A_storage_outage_during_registration_is_not_swallowed()
    {
        _f.Store.Setup(s => s.GetSummaryAsync(MonTag, It.IsAny<CancellationToken>())).ThrowsAsync(new StoreUnavailableException("down"));

        await Assert.ThrowsAsync<StoreUnavailableException>(() => Service.RegisterAsync(MonTag, default));

        VerifyNoWrite();
    }

    [Fact]
    public async Task Registering_an_already_tracked_tag_writes_nothing()
    {
        var stored = StoredSummary(TagState.Pending, tracked: true, nextRefreshAt: T0.AddHours(1).AddMinutes(15));

        var summary = await Service.RegisterAsync(MonTag, default);

        Assert.Equal(stored, summary);
        VerifyNoWrite();
        _f.VerifyNoUpstreamCall();
    }

    [Fact]
    public async Task Registering_a_name_whose_recipients_expired_reads_it_again_instead_of_tracking_the_old_tag()
    {
        var old = Summary("montag", TagState.Complete, new TagCounts(2, 2, 0, 0, 0), T0.AddMonths(-14), T0.AddMonths(-14), tracked: false, T0.AddMonths(-14), null);
        _f.Store.Setup(s => s.GetSummaryAsync(MonTag, It.IsAny<CancellationToken>())).ReturnsAsync(new StoredSummary(old, new ETag("old")) { RecipientsExpired = true });
        _f.Upstream(Upstream("+33600000009", "Waiting"));

        var summary = await Service.RegisterAsync(MonTag, default);

        _f.VerifyOneUpstreamRead();
        Assert.True(Assert.Single(_f.Saved).Summary.Tracked);
        Assert.Equal(TagState.Pending, summary.State);
        Assert.Empty(_summaries); // the old summary is not merely marked tracked
    }

    [Fact]
    public async Task Registering_a_stored_untracked_pending_tag_tracks_it_due_now_with_its_etag()
    {
        StoredSummary(TagState.Pending, tracked: false, etag: "etag-7");

        var summary = await Service.RegisterAsync(MonTag, default);

        var (saved, etag) = Assert.Single(_summaries);
        Assert.Equal(new ETag("etag-7"), etag);
        Assert.True(saved.Tracked);
        Assert.Equal(_f.Now, saved.NextRefreshAt);
        Assert.Equal(saved, summary);
        _f.VerifyNoUpstreamCall();
    }

    [Theory]
    [InlineData(TagState.Complete)]
    [InlineData(TagState.Expired)]
    public async Task Registering_a_settled_tag_tracks_it_until_its_re_check(TagState state)
    {
        StoredSummary(state, tracked: false);

        var summary = await Service.RegisterAsync(MonTag, default);

        // Issue 12 changed this: the next read is the re-check (it had no next refresh).
        var (saved, _) = Assert.Single(_summaries);
        Assert.True(saved.Tracked);
        Assert.Equal(_f.Now + RecheckEvery, saved.NextRefreshAt);
        Assert.Equal(state, summary.State);
    }

    [Fact]
    public async Task A_registration_that_loses_a_race_applies_itself_to_the_winner_version()
    {
        var theirs = Summary("montag", TagState.Pending, new TagCounts(3, 0, 0, 3, 0), T0, T0.AddMinutes(40));
        _f.Store.SetupSequence(s => s.GetSummaryAsync(MonTag, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new StoredSummary(theirs with { Counts = new TagCounts(2, 0, 0, 2, 0) }, new ETag("e1")))
            .ReturnsAsync(new StoredSummary(theirs with { Counts = new TagCounts(2, 0, 0, 2, 0) }, new ETag("e1")))
            .ReturnsAsync(new StoredSummary(theirs, new ETag("e2")));
        var calls = 0;
        _f.Store.Setup(s => s.SaveSummaryAsync(It.IsAny<TagSummary>(), It.IsAny<ETag?>(), It.IsAny<CancellationToken>()))
            .Callback((TagSummary summary, ETag? etag, CancellationToken _) => _summaries.Add((summary, etag)))
            .Returns(() => ++calls == 1 ? Task.FromException(new StoreConflictException("raced")) : Task.CompletedTask);

        var summary = await Service.RegisterAsync(MonTag, default);

        Assert.Equal(2, _summaries.Count);
        Assert.Equal(new ETag("e1"), _summaries[0].ETag);
        Assert.Equal(new ETag("e2"), _summaries[1].ETag);
        Assert.Equal(new TagCounts(3, 0, 0, 3, 0), summary.Counts);
        Assert.True(summary.Tracked);
    }

    [Fact]
    public async Task Conflicts_past_the_retry_limit_surface()
    {
        StoredSummary(TagState.Pending, tracked: false);
        _f.Store.Setup(s => s.SaveSummaryAsync(It.IsAny<TagSummary>(), It.IsAny<ETag?>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreConflictException("raced"));

        await Assert.ThrowsAsync<StoreConflictException>(() => Service.RegisterAsync(MonTag, default));

        _f.Store.Verify(s => s.SaveSummaryAsync(It.IsAny<TagSummary>(), It.IsAny<ETag?>(), It.IsAny<CancellationToken>()), Times.Exactly(4));
    }

    // ---- Untrack ----

    [Fact]
    public async Task Untracking_a_tracked_tag_keeps_its_data_and_clears_the_next_refresh()
    {
        var stored = StoredSummary(TagState.Pending, tracked: true, nextRefreshAt: T0.AddHours(2), etag: "etag-3");

        Assert.True(await Service.UntrackAsync(MonTag, default));

        var (saved, etag) = Assert.Single(_summaries);
        Assert.Equal(new ETag("etag-3"), etag);
        Assert.Equal(stored with { Tracked = false, NextRefreshAt = null }, saved);
    }

    [Fact]
    public async Task Untracking_an_untracked_tag_is_false_and_writes_nothing()
    {
        StoredSummary(TagState.Pending, tracked: false);

        Assert.False(await Service.UntrackAsync(MonTag, default));

        VerifyNoWrite();
    }

    [Fact]
    public async Task Untracking_an_unknown_tag_is_false_and_writes_nothing()
    {
        Assert.False(await Service.UntrackAsync(MonTag, default));

        VerifyNoWrite();
    }

    [Fact]
    public async Task Untracking_that_races_an_untrack_reports_what_it_finally_found()
    {
        var tracked = Summary("montag", TagState.Pending, new TagCounts(1, 0, 0, 1, 0), T0, T0, tracked: true, nextRefreshAt: T0.AddHours(2));
        _f.Store.SetupSequence(s => s.GetSummaryAsync(MonTag, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new StoredSummary(tracked, new ETag("e1")))
            .ReturnsAsync(new StoredSummary(tracked with { Tracked = false, NextRefreshAt = null }, new ETag("e2")));
        _f.Store.Setup(s => s.SaveSummaryAsync(It.IsAny<TagSummary>(), new ETag("e1"), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreConflictException("raced"));

        Assert.False(await Service.UntrackAsync(MonTag, default));

        _f.Store.Verify(s => s.SaveSummaryAsync(It.IsAny<TagSummary>(), It.IsAny<ETag?>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    // ---- RecordFailure ----

    [Fact]
    public async Task A_failed_refresh_backs_off_from_the_usual_interval()
    {
        // An hour old: usually every 15 minutes; one failure doubles that.
        StoredSummary(TagState.Pending, tracked: true, nextRefreshAt: _f.Now, etag: "etag-5");

        await Service.RecordFailureAsync(MonTag, default);

        var (saved, etag) = Assert.Single(_summaries);
        Assert.Equal(new ETag("etag-5"), etag);
        Assert.Equal(1, saved.FailedRefreshes);
        Assert.Equal(_f.Now.AddMinutes(30), saved.NextRefreshAt);
        Assert.Equal(TagState.Pending, saved.State);
        Assert.True(saved.Tracked);
    }

    [Fact]
    public async Task Repeated_failures_back_off_further_up_to_the_cap()
    {
        StoredSummary(TagState.Pending, tracked: true, failedRefreshes: 3, nextRefreshAt: _f.Now);

        await Service.RecordFailureAsync(MonTag, default);

        var (saved, _) = Assert.Single(_summaries);
        Assert.Equal(4, saved.FailedRefreshes);
        Assert.Equal(_f.Now + new TrackingOptions().MaxFailureDelay, saved.NextRefreshAt);
    }

    [Fact]
    public async Task A_failure_past_the_window_expires_the_tag()
    {
        StoredSummary(TagState.Pending, tracked: true, failedRefreshes: 2, nextRefreshAt: T0.AddHours(53));
        _f.Time.SetUtcNow(T0 + TimeSpan.FromHours(48) + TimeSpan.FromHours(6));

        await Service.RecordFailureAsync(MonTag, default);

        var (saved, _) = Assert.Single(_summaries);
        Assert.Equal(TagState.Expired, saved.State);
        Assert.Null(saved.NextRefreshAt);
        Assert.Equal(3, saved.FailedRefreshes);
    }

    [Fact]
    public async Task A_failure_just_inside_the_window_does_not_expire_the_tag()
    {
        StoredSummary(TagState.Pending, tracked: true, nextRefreshAt: T0.AddHours(53));
        _f.Time.SetUtcNow(T0 + TimeSpan.FromHours(54) - TimeSpan.FromSeconds(1));

        await Service.RecordFailureAsync(MonTag, default);

        var (saved, _) = Assert.Single(_summaries);
        Assert.Equal(TagState.Pending, saved.State);
        Assert.NotNull(saved.NextRefreshAt);
    }

    [Theory]
    [InlineData(TagState.Pending)]
    [InlineData(TagState.Complete)]
    [InlineData(TagState.Expired)]
    public async Task A_failure_of_an_untracked_tag_writes_nothing(TagState state)
    {
        StoredSummary(state, tracked: false);

        await Service.RecordFailureAsync(MonTag, default);

        VerifyNoWrite();
    }

    [Theory]
    [InlineData(TagState.Complete)]
    [InlineData(TagState.Expired)]
    public async Task A_failed_re_check_of_a_settled_tag_waits_for_the_next_re_check(TagState state)
    {
        // Issue 12: settled tags are read again, so their failures are recorded too (they used to write nothing).
        StoredSummary(state, tracked: true, nextRefreshAt: _f.Now);

        await Service.RecordFailureAsync(MonTag, default);

        var (saved, _) = Assert.Single(_summaries);
        Assert.Equal(state, saved.State);
        Assert.Equal(0, saved.FailedRefreshes);
        Assert.Equal(_f.Now + RecheckEvery, saved.NextRefreshAt);
    }

    [Fact]
    public async Task A_failure_of_an_unknown_tag_writes_nothing()
    {
        await Service.RecordFailureAsync(MonTag, default);

        VerifyNoWrite();
    }

    [Fact]
    public async Task A_failure_that_loses_a_race_is_recorded_on_the_winner_version()
    {
        var mine = Summary("montag", TagState.Pending, new TagCounts(1, 0, 0, 1, 0), T0, T0, tracked: true, nextRefreshAt: _f.Now);
        _f.Store.SetupSequence(s => s.GetSummaryAsync(MonTag, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new StoredSummary(mine, new ETag("e1")))
            .ReturnsAsync(new StoredSummary(mine with { FailedRefreshes = 1 }, new ETag("e2")));
        var calls = 0;
        _f.Store.Setup(s => s.SaveSummaryAsync(It.IsAny<TagSummary>(), It.IsAny<ETag?>(), It.IsAny<CancellationToken>()))
            .Callback((TagSummary summary, ETag? etag, CancellationToken _) => _summaries.Add((summary, etag)))
            .Returns(() => ++calls == 1 ? Task.FromException(new StoreConflictException("raced")) : Task.CompletedTask);

        await Service.RecordFailureAsync(MonTag, default);

        Assert.Equal(2, _summaries.Count);
        Assert.Equal(new ETag("e2"), _summaries[1].ETag);
        Assert.Equal(2, _summaries[1].Summary.FailedRefreshes);
    }

    // ---- List ----

    [Fact]
    public async Task Listing_passes_the_filter_page_size_and_token_to_the_store()
    {
        var page = new TrackedTagPage([Summary("montag", TagState.Pending, TagCounts.Empty, T0, T0, tracked: true)], "next-token");
        _f.Store.Setup(s => s.ListTrackedAsync(TagState.Pending, 25, "token-1", It.IsAny<CancellationToken>())).ReturnsAsync(page);

        Assert.Same(page, await Service.ListAsync(TagState.Pending, 25, "token-1", default));
    }
}
