using Azure;
using Moq;
using TagStatus.Core.Domain;
using TagStatus.Core.Lookup;
using TagStatus.Core.Refresh;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.Tests.Support;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Refresh;

public sealed class TagRefresherTests
{
    private readonly LookupFixture _f = new();
    private static readonly Tag MonTag = LookupFixture.MonTag;

    private void SaveConflicts(int times)
    {
        var calls = 0;
        _f.Store.Setup(s => s.SaveRefreshAsync(
                It.IsAny<IReadOnlyList<RecipientWrite>>(), It.IsAny<TagSummary>(), It.IsAny<StoredSummary?>(), It.IsAny<IReadOnlyList<TagCompanionRow>>(), It.IsAny<CancellationToken>()))
            .Callback((IReadOnlyList<RecipientWrite> changed, TagSummary summary, StoredSummary? etag, IReadOnlyList<TagCompanionRow> _, CancellationToken _) =>
                _f.Record(changed, summary, etag))
            .Returns(() => ++calls <= times ? Task.FromException<int>(new StoreConflictException("raced")) : Task.FromResult(1));
    }

    [Fact]
    public async Task A_first_refresh_stores_every_row_as_new_and_a_new_summary()
    {
        _f.Upstream(Upstream("+33600000001", "Delivered"), Upstream("+33600000002", "Waiting"));

        var result = await _f.Refresher.RefreshAsync(MonTag, RefreshReason.Scheduled, default);

        var saved = Assert.Single(_f.Saved);
        Assert.Null(saved.ExpectedETag);
        Assert.Equal(2, saved.Changed.Count);
        Assert.All(saved.Changed, w => Assert.Null(w.ExpectedETag));
        Assert.Equal(_f.Now, saved.Summary.FirstSeenAt);
        Assert.Equal(_f.Now, saved.Summary.RefreshedAt);
        Assert.Equal(new TagCounts(2, 1, 0, 1, 0, OptedOut: 0), saved.Summary.Counts);
        Assert.Equal(TagState.Pending, saved.Summary.State);
        Assert.Null(result.PreviousState);
        Assert.Equal(2, result.RecipientsChanged);
    }

    [Fact]
    public async Task A_full_pass_counts_its_pages_so_the_tag_is_estimated_at_sms_partners_page_size_not_at_twenty_rows()
    {
        // Two pages of 30 rows: 60 rows would be 3 pages at 20 a page.
        var pages = Enumerable.Range(0, 2).Select(p => (IReadOnlyList<UpstreamRecipient>)[.. Enumerable.Range(0, 30).Select(i => Upstream($"+336{(p * 30) + i:D8}", "Waiting"))]).ToArray();
        _f.Upstream(UpstreamPass.Of(60, PassEnd.ReachedTotal, pages));

        await _f.Refresher.RefreshAsync(MonTag, RefreshReason.Scheduled, default);

        var summary = Assert.Single(_f.Saved).Summary;
        Assert.Equal((2, 2), (summary.LastPassPages, summary.EstimatedPages));
        Assert.Equal(3, (summary with { LastPassPages = null }).EstimatedPages); // before a pass was counted
    }

    [Fact]
    public async Task Changed_rows_are_written_with_the_etag_they_were_read_with()
    {
        _f.Stored(TagState.Pending, _f.Now.AddMinutes(-5), [Recipient("+33600000001", DeliveryStatus.Waiting), Recipient("+33600000002", DeliveryStatus.Delivered)], etag: "sum-7");
        _f.Upstream(Upstream("+33600000001", "Delivered"), Upstream("+33600000002", "Delivered"), Upstream("+33600000003", "Waiting"));

        await _f.Refresher.RefreshAsync(MonTag, RefreshReason.Scheduled, default);

        var saved = Assert.Single(_f.Saved);
        Assert.Equal(new ETag("sum-7"), saved.ExpectedETag);
        Assert.Equal(
            [("+33600000001", (ETag?)new ETag("row-0")), ("+33600000003", null)],
            saved.Changed.Select(w => (w.Recipient.PhoneNumber, w.ExpectedETag)).OrderBy(p => p.PhoneNumber, StringComparer.Ordinal));
        Assert.Equal(T0, saved.Summary.FirstSeenAt);
    }

    [Fact]
    public async Task Refresh_never_undoes_a_final_status()
    {
        _f.Stored(TagState.Pending, _f.Now.AddMinutes(-5), [Recipient("+33600000001", DeliveryStatus.Delivered), Recipient("+33600000002", DeliveryStatus.Waiting)]);
        _f.Upstream(Upstream("+33600000001", "Waiting"), Upstream("+33600000002", "Not delivered"));

        var result = await _f.Refresher.RefreshAsync(MonTag, RefreshReason.Scheduled, default);

        Assert.Equal([DeliveryStatus.Delivered, DeliveryStatus.NotDelivered], result.Snapshot.Recipients!.Select(r => r.Status));
        Assert.Equal(TagState.Complete, result.Snapshot.Summary.State);
        Assert.Equal("+33600000002", Assert.Single(Assert.Single(_f.Saved).Changed).Recipient.PhoneNumber);
    }

    [Fact]
    public async Task An_incomplete_answer_never_completes_the_tag()
    {
        _f.Upstream(complete: false, Upstream("+33600000001", "Delivered"));

        var result = await _f.Refresher.RefreshAsync(MonTag, RefreshReason.Scheduled, default);

        Assert.Equal(TagState.Pending, result.Snapshot.Summary.State);
        Assert.Null(result.Snapshot.Summary.CompletedAt);
    }

    [Fact]
    public async Task On_a_store_conflict_the_refresher_re_reads_and_merges_again()
    {
        // First read: +1 waiting. Another writer then stores +1 delivered and +2 waiting; the second read sees them.
        SaveConflicts(1);
        _f.Store.SetupSequence(s => s.GetSummaryAsync(MonTag, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new StoredSummary(Summary("montag", TagState.Pending, new TagCounts(1, 0, 0, 1, 0), T0, _f.Now.AddMinutes(-5)), new ETag("before")))
            .ReturnsAsync(new StoredSummary(Summary("montag", TagState.Pending, new TagCounts(2, 1, 0, 1, 0), T0, _f.Now), new ETag("after")));
        _f.Store.SetupSequence(s => s.GetRecipientsAsync(MonTag, It.IsAny<CancellationToken>()))
            .ReturnsAsync([new StoredRecipient(Recipient("+33600000001", DeliveryStatus.Waiting), new ETag("r1-before"))])
            .ReturnsAsync(
            [
                new StoredRecipient(Recipient("+33600000001", DeliveryStatus.Delivered), new ETag("r1-after")),
                new StoredRecipient(Recipient("+33600000002", DeliveryStatus.Waiting), new ETag("r2-after")),
            ]);
        _f.Upstream(Upstream("+33600000001", "Waiting"), Upstream("+33600000002", "Waiting"));

        var result = await _f.Refresher.RefreshAsync(MonTag, RefreshReason.Scheduled, default);

        Assert.Equal(2, _f.Saved.Count);
        Assert.Equal(new ETag("before"), _f.Saved[0].ExpectedETag);
        var firstWrite = Assert.Single(_f.Saved[0].Changed);
        Assert.Equal(("+33600000002", (ETag?)null), (firstWrite.Recipient.PhoneNumber, firstWrite.ExpectedETag));
        Assert.Equal(new ETag("after"), _f.Saved[1].ExpectedETag);
        Assert.Empty(_f.Saved[1].Changed);
        Assert.Equal([DeliveryStatus.Delivered, DeliveryStatus.Waiting], result.Snapshot.Recipients!.Select(r => r.Status));
        Assert.Equal(new TagCounts(2, 1, 0, 1, 0, OptedOut: 0), result.Snapshot.Summary.Counts);
        _f.Client.Verify(c => c.GetStatusesByTagAsync(MonTag, It.IsAny<CancellationToken>()), Times.Once);
        _f.Store.Verify(s => s.GetSummaryAsync(MonTag, It.IsAny<CancellationToken>()), Times.Exactly(2));
    }

    [Fact]
    public async Task Conflict_retries_are_bounded()
    {
        _f.Stored(TagState.Pending, _f.Now.AddMinutes(-5), [Recipient("+33600000001", DeliveryStatus.Waiting)]);
        SaveConflicts(int.MaxValue);
        _f.Upstream(Upstream("+33600000001", "Delivered"));

        await Assert.ThrowsAsync<StoreConflictException>(() => _f.Refresher.RefreshAsync(MonTag, RefreshReason.Scheduled, default));

        Assert.InRange(_f.Saved.Count, 2, 10);
        _f.Client.Verify(c => c.GetStatusesByTagAsync(MonTag, It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_lookup_of_a_pending_untracked_tag_starts_tracking_it()
    {
        _f.Stored(TagState.Pending, _f.Now.AddMinutes(-5), [Recipient("+33600000001", DeliveryStatus.Waiting)], tracked: false);
        _f.Upstream(Upstream("+33600000001", "Waiting"));

        var result = await _f.Refresher.RefreshAsync(MonTag, RefreshReason.Lookup, default);

        var summary = Assert.Single(_f.Saved).Summary;
        Assert.True(summary.Tracked);
        Assert.Equal(_f.Rules.NextRefreshAt(TagState.Pending, T0, _f.Now), summary.NextRefreshAt);
        Assert.NotNull(summary.NextRefreshAt);
        Assert.True(result.Snapshot.Summary.Tracked);
    }

    [Fact]
    public async Task A_lookup_of_a_complete_untracked_tag_does_not_track_it()
    {
        _f.Upstream(Upstream("+33600000001", "Delivered"));

        await _f.Refresher.RefreshAsync(MonTag, RefreshReason.Lookup, default);

        var summary = Assert.Single(_f.Saved).Summary;
        Assert.False(summary.Tracked);
        Assert.Null(summary.NextRefreshAt);
        Assert.Equal(TagState.Complete, summary.State);
        Assert.Equal(_f.Now, summary.CompletedAt);
    }

    [Fact]
    public async Task Registering_tracks_the_tag()
    {
        _f.Upstream(Upstream("+33600000001", "Waiting"));

        await _f.Refresher.RefreshAsync(MonTag, RefreshReason.Register, default);

        var summary = Assert.Single(_f.Saved).Summary;
        Assert.True(summary.Tracked);
        Assert.NotNull(summary.NextRefreshAt);
    }

    [Fact]
    public async Task Registering_a_complete_tag_tracks_it_until_its_re_check()
    {
        _f.Upstream(Upstream("+33600000001", "Delivered"));

        await _f.Refresher.RefreshAsync(MonTag, RefreshReason.Register, default);

        // Issue 12 changed this: a settled tag is read again every Tracking:RecheckEvery (it had no next refresh).
        var summary = Assert.Single(_f.Saved).Summary;
        Assert.True(summary.Tracked);
        Assert.Equal(_f.Now + new TrackingOptions().RecheckEvery, summary.NextRefreshAt);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_scheduled_refresh_keeps_the_tracking_as_it_was(bool tracked)
    {
        _f.Stored(TagState.Pending, _f.Now.AddMinutes(-5), [Recipient("+33600000001", DeliveryStatus.Waiting)], tracked: tracked);
        _f.Upstream(Upstream("+33600000001", "Waiting"));

        await _f.Refresher.RefreshAsync(MonTag, RefreshReason.Scheduled, default);

        Assert.Equal(tracked, Assert.Single(_f.Saved).Summary.Tracked);
    }

    [Fact]
    public async Task A_tag_already_complete_keeps_its_first_completion_time()
    {
        _f.Stored(TagState.Complete, _f.Now.AddMinutes(-5), [Recipient("+33600000001", DeliveryStatus.Delivered)]);
        _f.Upstream(Upstream("+33600000001", "Delivered"));

        var result = await _f.Refresher.RefreshAsync(MonTag, RefreshReason.Scheduled, default);

        Assert.Equal(T0.AddMinutes(5), result.Snapshot.Summary.CompletedAt);
        Assert.Equal(TagState.Complete, result.PreviousState);
    }

    [Fact]
    public async Task A_waiting_tag_past_its_window_expires_and_waits_for_its_re_check()
    {
        _f.Stored(TagState.Pending, _f.Now, [Recipient("+33600000001", DeliveryStatus.Waiting)], tracked: true);
        _f.Time.SetUtcNow(_f.Rules.ExpiresAt(T0));
        _f.Upstream(Upstream("+33600000001", "Waiting"));

        var result = await _f.Refresher.RefreshAsync(MonTag, RefreshReason.Scheduled, default);

        Assert.Equal(TagState.Expired, result.Snapshot.Summary.State);
        // Issue 12 changed this: no more back-off refreshes, only the re-check (it had no next refresh).
        Assert.Equal(_f.Now + new TrackingOptions().RecheckEvery, result.Snapshot.Summary.NextRefreshAt);
        Assert.True(result.Snapshot.Summary.Tracked);
    }

    [Fact]
    public async Task The_change_observer_sees_the_previous_and_the_new_summary_and_its_rows_ride_along()
    {
        var companion = new Mock<TagCompanionRow>().Object;
        var observer = new Mock<ITagChangeObserver>();
        observer.Setup(o => o.OnChangeAsync(It.IsAny<TagSummary?>(), It.IsAny<TagSummary>(), It.IsAny<OptOutChanges>(), It.IsAny<CancellationToken>()))
            .Returns(new ValueTask<IReadOnlyList<TagCompanionRow>>([companion]));
        var refresher = new TagRefresher(_f.Client.Object, _f.Store.Object, _f.Rules, observer.Object, _f.Time, Microsoft.Extensions.Logging.Abstractions.NullLogger<TagRefresher>.Instance);
        var before = _f.Stored(TagState.Pending, _f.Now.AddMinutes(-5), [Recipient("+33600000001", DeliveryStatus.Waiting)]);
        _f.Upstream(Upstream("+33600000001", "Delivered"));

        await refresher.RefreshAsync(MonTag, RefreshReason.Scheduled, default);

        observer.Verify(o => o.OnChangeAsync(before, It.Is<TagSummary>(s => s.State == TagState.Complete), It.IsAny<OptOutChanges>(), It.IsAny<CancellationToken>()), Times.Once);
        _f.Store.Verify(s => s.SaveRefreshAsync(
            It.IsAny<IReadOnlyList<RecipientWrite>>(), It.IsAny<TagSummary>(), It.IsAny<StoredSummary?>(),
            It.Is<IReadOnlyList<TagCompanionRow>>(rows => rows.Count == 1 && rows[0] == companion), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task Rows_left_by_a_save_that_died_before_its_summary_are_merged_not_re_added()
    {
        // No summary, but the recipient row from the half-finished save is there.
        _f.Store.Setup(s => s.GetSummaryAsync(MonTag, It.IsAny<CancellationToken>())).ReturnsAsync((StoredSummary?)null);
        _f.Store.Setup(s => s.GetRecipientsAsync(MonTag, It.IsAny<CancellationToken>()))
            .ReturnsAsync([new StoredRecipient(Recipient("+33600000001", DeliveryStatus.Waiting), new ETag("orphan"))]);
        _f.Store.Setup(s => s.SaveRecipientsAsync(MonTag, It.IsAny<StoredSummary?>(), It.IsAny<DateTimeOffset>(), It.IsAny<IReadOnlyList<RecipientWrite>>(), It.IsAny<CancellationToken>()))
            .Returns((Tag _, StoredSummary? _, DateTimeOffset _, IReadOnlyList<RecipientWrite> changed, CancellationToken _) =>
                changed.Any(w => w.Recipient.PhoneNumber == "+33600000001" && w.ExpectedETag is null)
                    ? Task.FromException<int>(new StoreConflictException("The row already exists."))
                    : Task.FromResult(changed.Count));
        _f.Upstream(Upstream("+33600000001", "Delivered"));

        var result = await _f.Refresher.RefreshAsync(MonTag, RefreshReason.Lookup, default);

        Assert.Equal(TagState.Complete, result.Snapshot.Summary.State);
    }
}
