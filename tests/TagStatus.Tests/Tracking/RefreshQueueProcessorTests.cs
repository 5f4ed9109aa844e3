using Azure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using TagStatus.Core.Domain;
using TagStatus.Core.Queues;
using TagStatus.Core.Refresh;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.Tests.Support;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Tracking;

/// <summary>One refresh message: refresh the tag when it is still due, then drop the schedule row the timer claimed.</summary>
public sealed class RefreshQueueProcessorTests
{
    private readonly LookupFixture _f = new();
    private readonly List<DueTag> _removed = [];
    private readonly Mock<IPassStore> _passes = new();
    private readonly Mock<IWorkQueue> _queue = new();
    private readonly TrackingOptions _options = new() { PagesPerMessage = 2 };

    public RefreshQueueProcessorTests()
    {
        _f.Store.Setup(s => s.RemoveDueAsync(It.IsAny<DueTag>(), It.IsAny<CancellationToken>()))
            .Callback((DueTag due, CancellationToken _) => _removed.Add(due))
            .Returns(Task.CompletedTask);
        _f.Store.Setup(s => s.SaveSummaryAsync(It.IsAny<TagSummary>(), It.IsAny<ETag?>(), It.IsAny<CancellationToken>())).Returns(Task.CompletedTask);
    }

    private RefreshQueueProcessor Processor()
    {
        var tracking = new TrackingService(_f.Store.Object, _f.InlineRead, _f.Rules, new NoTagChangeObserver(), _f.Time, NullLogger<TrackingService>.Instance);
        var stepwise = new StepwiseRefresher(_f.Client.Object, _passes.Object, _f.Refresher, Options.Create(_options), _f.Time, NullLogger<StepwiseRefresher>.Instance);
        return new RefreshQueueProcessor(_f.Store.Object, stepwise, _queue.Object, tracking, Options.Create(_options), _f.Time, NullLogger<RefreshQueueProcessor>.Instance);
    }

    /// <summary>SMS Partner's pages for montag, one a call, with the total announced; the pass ends after the last.</summary>
    private void Pages(int announcedTotal, params UpstreamRecipient[][] pages)
    {
        _f.Client.Setup(c => c.ContinuePassAsync(LookupFixture.MonTag, It.IsAny<UpstreamPass>(), It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .Callback((Tag _, UpstreamPass pass, int max, CancellationToken _) =>
            {
                for (var read = 0; read < max && pass.End == PassEnd.Open; read++)
                {
                    pass.Add(pages[pass.PagesRead], announcedTotal);
                    if (pass.PagesRead == pages.Length)
                    {
                        pass.Finish(PassEnd.ReachedTotal);
                    }
                }
            })
            .Returns(Task.CompletedTask);
    }

    private RefreshMessage Message() => new("montag", _f.Now.AddMinutes(10));

    /// <summary>A tag due <paramref name="dueIn"/> from now (negative: overdue; null: never read again).</summary>
    private void StoredPending(TimeSpan? dueIn, bool tracked = true, TagState state = TagState.Pending)
    {
        var summary = Summary("montag", state, new TagCounts(1, 0, 0, 1, 0), T0, T0.AddMinutes(30), tracked, nextRefreshAt: _f.Now + dueIn);
        _f.Store.Setup(s => s.GetSummaryAsync(LookupFixture.MonTag, It.IsAny<CancellationToken>())).ReturnsAsync(new StoredSummary(summary, new ETag("s1")));
        _f.Store.Setup(s => s.GetRecipientsAsync(LookupFixture.MonTag, It.IsAny<CancellationToken>()))
            .ReturnsAsync([new StoredRecipient(Recipient("+33600000001", DeliveryStatus.Waiting), new ETag("r1"))]);
    }

    [Fact]
    public async Task A_refresh_a_lookup_asked_for_reads_an_untracked_tag_not_due_and_goes_on_holding_a_row_the_timer_counts()
    {
        StoredPending(dueIn: null, tracked: false);
        Pages(3, [Upstream("+33600000001", "Delivered")], [Upstream("+33600000002", "Waiting")], [Upstream("+33600000003", "Waiting")]);
        var heldAt = _f.Now.AddMinutes(1);
        var asked = new RefreshMessage("montag", _f.Now, Requested: true, HeldUntil: heldAt);
        var renewedAt = _f.Now + _options.RefreshLease;
        _f.Store.Setup(s => s.ClaimDueAsync(It.Is<DueTag>(d => d.DueAt == heldAt && d.Claimed && d.Pages == 2), renewedAt, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new DueTag(LookupFixture.MonTag, renewedAt, 2, Claimed: true));

        var outcome = await Processor().ProcessAsync(asked, default);

        Assert.Equal(QueuedRefreshOutcome.Continued, outcome);
        // Its row renewed a lease ahead with the pages a step reads; the follow-up names the renewed row, and keeps the
        // time it was asked for.
        _queue.Verify(q => q.EnqueueRefreshAsync(It.Is<RefreshMessage>(m => m.Requested && m.FollowUp && m.Tag == "montag" && m.HeldUntil == renewedAt && m.DueAt == asked.DueAt), _options.IntervalPerPage * 2, It.IsAny<CancellationToken>()), Times.Once);
        Assert.Empty(_removed);
    }

    [Fact]
    public async Task A_requested_step_whose_row_is_gone_holds_a_new_one()
    {
        StoredPending(dueIn: null, tracked: false);
        Pages(3, [Upstream("+33600000001", "Delivered")], [Upstream("+33600000002", "Waiting")], [Upstream("+33600000003", "Waiting")]);
        var asked = new RefreshMessage("montag", _f.Now, Requested: true); // queued before rows were held: none to renew
        _f.Store.Setup(s => s.HoldInFlightAsync(LookupFixture.MonTag, It.IsAny<DateTimeOffset>(), It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((Tag tag, DateTimeOffset until, int pages, CancellationToken _) => new DueTag(tag, until, pages, Claimed: true));

        Assert.Equal(QueuedRefreshOutcome.Continued, await Processor().ProcessAsync(asked, default));

        var heldAt = _f.Now + _options.RefreshLease;
        _f.Store.Verify(s => s.HoldInFlightAsync(LookupFixture.MonTag, heldAt, 2, It.IsAny<CancellationToken>()), Times.Once);
        _f.Store.Verify(s => s.ClaimDueAsync(It.IsAny<DueTag>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()), Times.Never);
        _queue.Verify(q => q.EnqueueRefreshAsync(new RefreshMessage("montag", asked.DueAt, FollowUp: true, Requested: true, HeldUntil: heldAt), It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_requested_steps_row_carries_at_most_a_messages_share_of_pages()
    {
        // Stored at 1,000 recipients: 50 estimated pages, where a message reads 2.
        var summary = Summary("montag", TagState.Pending, new TagCounts(1_000, 0, 0, 1_000, 0), T0, T0.AddMinutes(30), tracked: false, nextRefreshAt: null);
        _f.Store.Setup(s => s.GetSummaryAsync(LookupFixture.MonTag, It.IsAny<CancellationToken>())).ReturnsAsync(new StoredSummary(summary, new ETag("s1")));
        Pages(3, [Upstream("+33600000001", "Delivered")], [Upstream("+33600000002", "Waiting")], [Upstream("+33600000003", "Waiting")]);
        _f.Store.Setup(s => s.HoldInFlightAsync(LookupFixture.MonTag, It.IsAny<DateTimeOffset>(), It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((Tag tag, DateTimeOffset until, int pages, CancellationToken _) => new DueTag(tag, until, pages, Claimed: true));

        Assert.Equal(QueuedRefreshOutcome.Continued, await Processor().ProcessAsync(new RefreshMessage("montag", _f.Now, Requested: true), default));

        _f.Store.Verify(s => s.HoldInFlightAsync(LookupFixture.MonTag, It.IsAny<DateTimeOffset>(), _options.PagesPerMessage, It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_requested_refresh_that_ends_removes_the_row_it_held()
    {
        StoredPending(dueIn: null, tracked: false);
        Pages(1, [Upstream("+33600000001", "Delivered")]);
        var heldAt = _f.Now.AddMinutes(1);

        var outcome = await Processor().ProcessAsync(new RefreshMessage("montag", _f.Now, Requested: true, HeldUntil: heldAt), default);

        Assert.Equal(QueuedRefreshOutcome.Refreshed, outcome);
        var removed = Assert.Single(_removed);
        Assert.Equal((LookupFixture.MonTag, heldAt), (removed.Tag, removed.DueAt));
    }

    [Fact]
    public async Task A_refresh_a_lookup_asked_for_is_dropped_when_the_tag_was_read_since()
    {
        StoredPending(dueIn: null, tracked: false);
        var askedBeforeTheRead = new RefreshMessage("montag", T0, Requested: true); // the stored read is at T0 + 30 min

        var outcome = await Processor().ProcessAsync(askedBeforeTheRead, default);

        Assert.Equal(QueuedRefreshOutcome.Dropped, outcome);
        _f.VerifyNoUpstreamCall();
    }

    [Fact]
    public async Task A_due_tag_is_refreshed_and_its_claimed_row_removed()
    {
        StoredPending(TimeSpan.FromMinutes(-1));
        Pages(1, [Upstream("+33600000001", "Delivered")]);

        var outcome = await Processor().ProcessAsync(Message(), default);

        Assert.Equal(QueuedRefreshOutcome.Refreshed, outcome);
        Assert.Equal(TagState.Complete, Assert.Single(_f.Saved).Summary.State);
        Assert.Equal(new DueTag(LookupFixture.MonTag, Message().DueAt, 1), Assert.Single(_removed));
    }

    [Theory]
    [InlineData(false, TagState.Pending)]
    [InlineData(true, TagState.Complete)]
    [InlineData(true, TagState.Expired)]
    public async Task An_untracked_tag_or_one_past_its_re_checks_is_not_read_and_its_row_is_dropped(bool tracked, TagState state)
    {
        StoredPending(tracked ? null : TimeSpan.FromMinutes(-1), tracked, state);

        Assert.Equal(QueuedRefreshOutcome.Dropped, await Processor().ProcessAsync(Message(), default));

        _f.VerifyNoUpstreamCall();
        Assert.Single(_removed);
    }

    [Theory]
    [InlineData(TagState.Complete)]
    [InlineData(TagState.Expired)]
    public async Task A_settled_tag_whose_re_check_has_come_is_read_again(TagState state)
    {
        StoredPending(TimeSpan.FromMinutes(-1), tracked: true, state);
        Pages(1, [Upstream("+33600000001", "Delivered")]);

        Assert.Equal(QueuedRefreshOutcome.Refreshed, await Processor().ProcessAsync(Message(), default));

        _f.Client.Verify(c => c.ContinuePassAsync(LookupFixture.MonTag, It.IsAny<UpstreamPass>(), It.IsAny<int>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_tag_refreshed_by_a_lookup_since_it_was_queued_is_not_read_again()
    {
        StoredPending(TimeSpan.FromMinutes(4));

        Assert.Equal(QueuedRefreshOutcome.Dropped, await Processor().ProcessAsync(Message(), default));

        _f.VerifyNoUpstreamCall();
        Assert.Empty(_f.Saved);
    }

    [Fact]
    public async Task A_tag_nobody_stored_is_dropped()
    {
        Assert.Equal(QueuedRefreshOutcome.Dropped, await Processor().ProcessAsync(Message(), default));
        _f.VerifyNoUpstreamCall();
    }

    [Fact]
    public async Task An_upstream_failure_is_recorded_for_back_off_and_the_claimed_row_removed()
    {
        StoredPending(TimeSpan.FromMinutes(-1));
        _f.Client.Setup(c => c.ContinuePassAsync(LookupFixture.MonTag, It.IsAny<UpstreamPass>(), It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new SmsPartnerUnavailableException("SMS Partner answered 503."));

        var outcome = await Processor().ProcessAsync(Message(), default);

        Assert.Equal(QueuedRefreshOutcome.Failed, outcome);
        _f.Store.Verify(s => s.SaveSummaryAsync(It.Is<TagSummary>(t => t.FailedRefreshes == 1 && t.NextRefreshAt > _f.Now), It.IsAny<ETag?>(), It.IsAny<CancellationToken>()), Times.Once);
        Assert.Single(_removed);
    }

    [Fact]
    public async Task Storage_out_of_reach_throws_so_the_queue_brings_the_message_back_and_the_row_stays()
    {
        _f.Store.Setup(s => s.GetSummaryAsync(It.IsAny<Tag>(), It.IsAny<CancellationToken>())).ThrowsAsync(new StoreUnavailableException("down"));

        await Assert.ThrowsAsync<StoreUnavailableException>(() => Processor().ProcessAsync(Message(), default));

        Assert.Empty(_removed);
    }

    [Fact]
    public async Task A_tag_bigger_than_one_message_stores_its_pass_renews_its_claim_and_queues_the_next_step()
    {
        StoredPending(TimeSpan.FromMinutes(-1));
        Pages(5, [Upstream("+33600000001", "Delivered")], [Upstream("+33600000002", "Delivered")], [Upstream("+33600000003", "Waiting")]);
        var renewed = new DueTag(LookupFixture.MonTag, _f.Now + _options.RefreshLease, 1);
        _f.Store.Setup(s => s.ClaimDueAsync(It.IsAny<DueTag>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>())).ReturnsAsync(renewed);

        var outcome = await Processor().ProcessAsync(Message(), default);

        Assert.Equal(QueuedRefreshOutcome.Continued, outcome);
        Assert.Empty(_f.Saved); // nothing merged before the pass ends
        _passes.Verify(p => p.SaveAsync(LookupFixture.MonTag, It.Is<UpstreamPass>(pass => pass.PagesRead == 2), 0, _f.Now, null, It.IsAny<CancellationToken>()), Times.Once);
        _f.Store.Verify(s => s.ClaimDueAsync(new DueTag(LookupFixture.MonTag, Message().DueAt, 1), _f.Now + _options.RefreshLease, It.IsAny<CancellationToken>()), Times.Once);
        // Paced: two pages read in no time on this clock, so the next step waits two pages' interval.
        _queue.Verify(q => q.EnqueueRefreshAsync(new RefreshMessage("montag", renewed.DueAt, FollowUp: true), _options.IntervalPerPage * 2, It.IsAny<CancellationToken>()), Times.Once);
        Assert.Empty(_removed); // the renewed claim stays until the pass ends
    }

    [Fact]
    public async Task A_step_slower_than_its_pages_pace_queues_its_next_step_at_once()
    {
        StoredPending(TimeSpan.FromMinutes(-1));
        Pages(5, [Upstream("+33600000001", "Delivered")], [Upstream("+33600000002", "Delivered")], [Upstream("+33600000003", "Waiting")]);
        _f.Client.Setup(c => c.ContinuePassAsync(LookupFixture.MonTag, It.IsAny<UpstreamPass>(), It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .Callback((Tag _, UpstreamPass pass, int _, CancellationToken _) =>
            {
                pass.Add([Upstream("+33600000001", "Delivered")], 5);
                pass.Add([Upstream("+33600000002", "Delivered")], 5);
                _f.Time.Advance(TimeSpan.FromSeconds(30)); // the budget kept it waiting
            })
            .Returns(Task.CompletedTask);
        var renewed = new DueTag(LookupFixture.MonTag, _f.Now + _options.RefreshLease, 1);
        _f.Store.Setup(s => s.ClaimDueAsync(It.IsAny<DueTag>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>())).ReturnsAsync(renewed);

        await Processor().ProcessAsync(Message(), default);

        _queue.Verify(q => q.EnqueueRefreshAsync(It.Is<RefreshMessage>(m => m.FollowUp), TimeSpan.Zero, It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_renewed_claim_carries_the_tags_pages_so_the_timer_counts_the_pass_in_flight()
    {
        var big = Summary("montag", TagState.Pending, new TagCounts(5000, 0, 0, 5000, 0), T0, T0.AddMinutes(30), tracked: true, null, _f.Now.AddMinutes(-1)) with { LastPassPages = 250 };
        _f.Store.Setup(s => s.GetSummaryAsync(LookupFixture.MonTag, It.IsAny<CancellationToken>())).ReturnsAsync(new StoredSummary(big, new ETag("s1")));
        _passes.Setup(p => p.GetCursorAsync(LookupFixture.MonTag, It.IsAny<CancellationToken>())).ReturnsAsync((PassCursor?)null);
        Pages(5, [Upstream("+33600000001", "Delivered")], [Upstream("+33600000002", "Delivered")], [Upstream("+33600000003", "Waiting")]);

        await Processor().ProcessAsync(Message(), default);

        _f.Store.Verify(s => s.ClaimDueAsync(new DueTag(LookupFixture.MonTag, Message().DueAt, 250), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_step_whose_claim_was_taken_meanwhile_queues_no_follow_up()
    {
        StoredPending(TimeSpan.FromMinutes(-1));
        Pages(5, [Upstream("+33600000001", "Delivered")], [Upstream("+33600000002", "Delivered")], [Upstream("+33600000003", "Waiting")]);
        _f.Store.Setup(s => s.ClaimDueAsync(It.IsAny<DueTag>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>())).ReturnsAsync((DueTag?)null);

        Assert.Equal(QueuedRefreshOutcome.Continued, await Processor().ProcessAsync(Message(), default));

        _queue.Verify(q => q.EnqueueRefreshAsync(It.IsAny<RefreshMessage>(), It.IsAny<CancellationToken>()), Times.Never);
        _queue.Verify(q => q.EnqueueRefreshAsync(It.IsAny<RefreshMessage>(), It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task A_follow_up_step_goes_on_though_a_lookup_moved_the_tags_next_read()
    {
        StoredPending(TimeSpan.FromMinutes(4));
        Pages(1, [Upstream("+33600000001", "Delivered")]);

        var outcome = await Processor().ProcessAsync(Message() with { FollowUp = true }, default);

        Assert.Equal(QueuedRefreshOutcome.Refreshed, outcome);
    }

    [Fact]
    public async Task A_dropped_message_writes_the_tags_own_schedule_row_again_before_removing_the_claimed_one()
    {
        StoredPending(TimeSpan.FromMinutes(4));
        var order = new List<string>();
        _f.Store.Setup(s => s.EnsureDueAsync(It.IsAny<TagSummary>(), It.IsAny<CancellationToken>())).Callback(() => order.Add("ensure")).Returns(Task.CompletedTask);
        _f.Store.Setup(s => s.RemoveDueAsync(It.IsAny<DueTag>(), It.IsAny<CancellationToken>())).Callback(() => order.Add("remove")).Returns(Task.CompletedTask);

        Assert.Equal(QueuedRefreshOutcome.Dropped, await Processor().ProcessAsync(Message(), default));

        Assert.Equal(["ensure", "remove"], order);
    }

    [Fact]
    public async Task A_step_another_invocation_got_ahead_of_is_dropped_not_counted_as_the_tags_failure()
    {
        StoredPending(TimeSpan.FromMinutes(-1));
        Pages(5, [Upstream("+33600000001", "Delivered")], [Upstream("+33600000002", "Delivered")], [Upstream("+33600000003", "Waiting")]);
        _passes.Setup(p => p.SaveAsync(It.IsAny<Tag>(), It.IsAny<UpstreamPass>(), It.IsAny<int>(), It.IsAny<DateTimeOffset>(), It.IsAny<ETag?>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreConflictException("Another invocation moved the pass first."));

        Assert.Equal(QueuedRefreshOutcome.Dropped, await Processor().ProcessAsync(Message(), default));

        _f.Store.Verify(s => s.SaveSummaryAsync(It.IsAny<TagSummary>(), It.IsAny<ETag?>(), It.IsAny<CancellationToken>()), Times.Never); // no failure recorded
        _queue.Verify(q => q.EnqueueRefreshAsync(It.IsAny<RefreshMessage>(), It.IsAny<CancellationToken>()), Times.Never);
        _queue.Verify(q => q.EnqueueRefreshAsync(It.IsAny<RefreshMessage>(), It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task A_message_naming_no_valid_tag_is_dropped()
    {
        Assert.Equal(QueuedRefreshOutcome.Dropped, await Processor().ProcessAsync(new RefreshMessage("Not A Tag", _f.Now), default));
        _f.VerifyNoUpstreamCall();
    }
}
