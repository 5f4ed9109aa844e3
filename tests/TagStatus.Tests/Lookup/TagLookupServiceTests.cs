using Moq;
using TagStatus.Core.Domain;
using TagStatus.Core.Lookup;
using TagStatus.Core.Queues;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.Storage;
using TagStatus.Tests.Support;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Lookup;

public sealed class TagLookupServiceTests
{
    private static readonly TimeSpan OneMinute = TimeSpan.FromSeconds(60);
    private readonly LookupFixture _f = new();

    private static readonly Recipient[] WaitingAndDelivered =
    [
        Recipient("+33600000002", DeliveryStatus.Waiting),
        Recipient("+33600000001", DeliveryStatus.Delivered),
    ];

    [Fact]
    public async Task Lookup_serves_store_when_refreshed_within_maxAge()
    {
        _f.Stored(TagState.Pending, _f.Now.AddSeconds(-60), WaitingAndDelivered);

        var result = await _f.Lookup.LookupAsync(LookupFixture.MonTag, OneMinute, default);

        var found = Assert.IsType<LookupResult.Found>(result);
        Assert.Equal(LookupSource.Store, found.Source);
        Assert.False(found.Stale);
        Assert.Equal(2, found.Summary.Counts.Total);
        _f.VerifyNoUpstreamCall();
        Assert.Empty(_f.Saved);
    }

    [Fact]
    public async Task Lookup_goes_live_when_the_stored_data_is_older_than_maxAge()
    {
        _f.Stored(TagState.Pending, _f.Now.AddSeconds(-61), WaitingAndDelivered);
        _f.Upstream(Upstream("+33600000001", "Delivered"), Upstream("+33600000002", "Delivered"));

        var result = await _f.Lookup.LookupAsync(LookupFixture.MonTag, OneMinute, default);

        var found = Assert.IsType<LookupResult.Found>(result);
        Assert.Equal(LookupSource.Live, found.Source);
        Assert.False(found.Stale);
        Assert.Equal(TagState.Complete, found.Summary.State);
        Assert.Equal(_f.Now, found.Summary.RefreshedAt);
        _f.VerifyOneUpstreamRead();
        Assert.Single(_f.Saved);
    }

    [Fact]
    public async Task Lookup_with_maxAge_zero_reads_live_even_when_complete()
    {
        _f.Stored(TagState.Complete, _f.Now, [Recipient("+33600000001", DeliveryStatus.Delivered)]);
        _f.Upstream(Upstream("+33600000001", "Delivered"));

        var result = await _f.Lookup.LookupAsync(LookupFixture.MonTag, TimeSpan.Zero, default);

        Assert.Equal(LookupSource.Live, Assert.IsType<LookupResult.Found>(result).Source);
        _f.VerifyOneUpstreamRead();
    }

    [Theory]
    [InlineData(TagState.Complete)]
    [InlineData(TagState.Expired)]
    public async Task Lookup_serves_a_settled_tag_from_store_whatever_its_age(TagState state)
    {
        _f.Stored(state, _f.Now.AddDays(-30), [Recipient("+33600000001", state == TagState.Complete ? DeliveryStatus.Delivered : DeliveryStatus.Waiting)]);

        var result = await _f.Lookup.LookupAsync(LookupFixture.MonTag, TimeSpan.FromSeconds(1), default);

        var found = Assert.IsType<LookupResult.Found>(result);
        Assert.Equal(LookupSource.Store, found.Source);
        Assert.Equal(state, found.Summary.State);
        _f.VerifyNoUpstreamCall();
    }

    [Fact]
    public async Task A_lookup_served_from_store_reads_the_summary_and_no_recipient_row()
    {
        // Counts come from the summary: the rows are read only for the page a 200 shows, by the handler.
        _f.Stored(TagState.Pending, _f.Now, WaitingAndDelivered, counts: new TagCounts(5, 0, 0, 5, 0));

        var found = Assert.IsType<LookupResult.Found>(await _f.Lookup.LookupAsync(LookupFixture.MonTag, OneMinute, default));

        Assert.Equal(new TagCounts(5, 0, 0, 5, 0), found.Summary.Counts);
        _f.Store.Verify(s => s.ReadRecipientsAsync(It.IsAny<Tag>(), It.IsAny<RecipientRange>(), It.IsAny<CancellationToken>()), Times.Never);
        _f.Store.Verify(s => s.GetRecipientPageAsync(It.IsAny<Tag>(), It.IsAny<RecipientFilter?>(), It.IsAny<int>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task A_stale_lookup_while_another_holds_the_claim_serves_the_store_marked_refreshing()
    {
        _f.Stored(TagState.Pending, _f.Now.AddHours(-1), WaitingAndDelivered);
        _f.Store.Setup(s => s.TryClaimRefreshAsync(LookupFixture.MonTag, It.IsAny<DateTimeOffset>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>())).ReturnsAsync((RefreshClaim?)null);

        var found = Assert.IsType<LookupResult.Found>(await _f.Lookup.LookupAsync(LookupFixture.MonTag, OneMinute, default));

        Assert.True(found.Refreshing);
        Assert.False(found.Stale);
        Assert.Equal(LookupSource.Store, found.Source);
        _f.VerifyNoUpstreamCall();
    }

    [Fact]
    public async Task A_lookup_with_nothing_stored_while_another_reads_the_tag_answers_accepted()
    {
        _f.Store.Setup(s => s.TryClaimRefreshAsync(LookupFixture.MonTag, It.IsAny<DateTimeOffset>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>())).ReturnsAsync((RefreshClaim?)null);

        var accepted = Assert.IsType<LookupResult.Accepted>(await _f.Lookup.LookupAsync(LookupFixture.MonTag, OneMinute, default));

        Assert.True(accepted.RetryAfter > TimeSpan.Zero);
        _f.VerifyNoUpstreamCall();
    }

    [Fact]
    public async Task A_queued_big_tag_holds_at_most_a_messages_share_of_pages_so_an_expired_hold_is_not_priced_as_a_new_pass()
    {
        var many = Enumerable.Range(1, 220).Select(i => Recipient($"+336{i:D8}", DeliveryStatus.Waiting)).ToList(); // 11 pages
        _f.Stored(TagState.Pending, _f.Now.AddHours(-1), many);
        _f.Tracking.PagesPerMessage = 4;

        await _f.Lookup.LookupAsync(LookupFixture.MonTag, OneMinute, default);

        _f.Store.Verify(s => s.HoldInFlightAsync(LookupFixture.MonTag, It.IsAny<DateTimeOffset>(), 4, It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_stale_tag_bigger_than_the_inline_limit_is_queued_and_served_from_store()
    {
        // 11 pages of 20 by its stored size, over the default limit of 10.
        var many = Enumerable.Range(1, 220).Select(i => Recipient($"+336{i:D8}", DeliveryStatus.Waiting)).ToList();
        _f.Stored(TagState.Pending, _f.Now.AddHours(-1), many);

        var found = Assert.IsType<LookupResult.Found>(await _f.Lookup.LookupAsync(LookupFixture.MonTag, OneMinute, default));

        Assert.True(found.Refreshing);
        _f.VerifyNoUpstreamCall();
        // Held in the schedule a lease ahead, where the timer counts it in flight; the message names the row.
        var held = _f.Now + _f.Tracking.RefreshLease;
        _f.Store.Verify(s => s.HoldInFlightAsync(LookupFixture.MonTag, held, 11, It.IsAny<CancellationToken>()), Times.Once); // its 11 pages, at most a message's share
        _f.Queue.Verify(q => q.EnqueueRefreshAsync(It.Is<RefreshMessage>(m => m.Tag == "montag" && m.Requested && !m.FollowUp && m.HeldUntil == held), It.IsAny<CancellationToken>()), Times.Once);
        _f.Store.Verify(s => s.ReleaseRefreshAsync(It.IsAny<RefreshClaim>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task A_new_tag_still_open_after_the_inline_pages_is_handed_to_the_queue_and_answered_accepted()
    {
        var pages = Enumerable.Range(0, 12).Select(p => (IReadOnlyList<UpstreamRecipient>)[Upstream($"+336{p:D8}", "Waiting")]).ToArray();
        var answer = UpstreamPass.Of(12, PassEnd.ReachedTotal, pages);
        _f.Upstream(answer);

        Assert.IsType<LookupResult.Accepted>(await _f.Lookup.LookupAsync(LookupFixture.MonTag, OneMinute, default));

        _f.Passes.Verify(p => p.SaveAsync(LookupFixture.MonTag, It.Is<UpstreamPass>(pass => pass.PagesRead == 10), 0, It.IsAny<DateTimeOffset>(), null, It.IsAny<CancellationToken>()), Times.Once);
        var held = _f.Now + _f.Tracking.RefreshLease;
        _f.Store.Verify(s => s.HoldInFlightAsync(LookupFixture.MonTag, held, _f.Tracking.PagesPerMessage, It.IsAny<CancellationToken>()), Times.Once);
        _f.Queue.Verify(q => q.EnqueueRefreshAsync(It.Is<RefreshMessage>(m => m.Requested && m.FollowUp && m.HeldUntil == held), It.IsAny<CancellationToken>()), Times.Once);
        Assert.Empty(_f.Saved);
    }

    [Theory]
    [InlineData(3, true)]   // abandoned: older than Tracking:MaxPassAge (2 h), no step will finish it
    [InlineData(1, false)]  // a queued refresh's pass going on: left to its own messages
    public async Task A_new_tag_whose_open_pass_is_too_old_to_finish_is_taken_over_by_the_lookup_not_left_at_202_for_ever(int hoursOld, bool takenOver)
    {
        var pages = Enumerable.Range(0, 12).Select(p => (IReadOnlyList<UpstreamRecipient>)[Upstream($"+336{p:D8}", "Waiting")]).ToArray();
        _f.Upstream(UpstreamPass.Of(12, PassEnd.ReachedTotal, pages));
        var open = new PassCursor(40, 40, 1000, _f.Now.AddHours(-hoursOld), new Azure.ETag("c1"), []);
        _f.Passes.Setup(p => p.GetCursorAsync(LookupFixture.MonTag, It.IsAny<CancellationToken>())).ReturnsAsync(open);
        _f.Passes.SetupSequence(p => p.SaveAsync(LookupFixture.MonTag, It.IsAny<UpstreamPass>(), 0, It.IsAny<DateTimeOffset>(), null, It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreConflictException("a pass is open"))
            .Returns(Task.CompletedTask);

        Assert.IsType<LookupResult.Accepted>(await _f.Lookup.LookupAsync(LookupFixture.MonTag, OneMinute, default));

        var times = takenOver ? Times.Once() : Times.Never();
        _f.Passes.Verify(p => p.DeleteAsync(LookupFixture.MonTag, It.IsAny<CancellationToken>()), times);
        _f.Queue.Verify(q => q.EnqueueRefreshAsync(It.Is<RefreshMessage>(m => m.Requested && m.FollowUp), It.IsAny<CancellationToken>()), times);
    }

    public static TheoryData<int> UpstreamFailures => new() { 0, 1, 2, 3 };

    private static SmsPartnerException Failure(int which) => which switch
    {
        0 => new SmsPartnerUnavailableException("down"),
        1 => new SmsPartnerBadAnswerException("garbage"),
        2 => new SmsPartnerRefusedException(10, "Invalid API key"),
        _ => new SmsPartnerRefusedException(4, "Message not found"),
    };

    [Theory]
    [MemberData(nameof(UpstreamFailures))]
    public async Task Lookup_serves_stale_stored_data_when_sms_partner_fails(int which)
    {
        _f.Stored(TagState.Pending, _f.Now.AddHours(-1), WaitingAndDelivered);
        _f.UpstreamFails(Failure(which));

        var result = await _f.Lookup.LookupAsync(LookupFixture.MonTag, OneMinute, default);

        var found = Assert.IsType<LookupResult.Found>(result);
        Assert.True(found.Stale);
        Assert.Equal(LookupSource.Store, found.Source);
        Assert.Equal(2, found.Summary.Counts.Total);
        Assert.Empty(_f.Saved);
    }

    [Fact]
    public async Task Lookup_of_a_tag_sms_partner_does_not_know_and_nothing_stored_is_not_found()
    {
        _f.UpstreamFails(new SmsPartnerRefusedException(SmsPartnerRefusedException.MessageNotFound, "Message not found"));

        Assert.IsType<LookupResult.NotFound>(await _f.Lookup.LookupAsync(LookupFixture.MonTag, OneMinute, default));
        Assert.Empty(_f.Saved);
    }

    [Fact]
    public async Task Lookup_refused_with_code_10_and_nothing_stored_is_upstream_failed_with_the_code()
    {
        _f.UpstreamFails(new SmsPartnerRefusedException(SmsPartnerRefusedException.InvalidApiKey, "Invalid API key"));

        var failed = Assert.IsType<LookupResult.UpstreamFailed>(await _f.Lookup.LookupAsync(LookupFixture.MonTag, OneMinute, default));

        Assert.Equal(10, failed.UpstreamCode);
        Assert.Contains("code 10", failed.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lookup_with_a_bad_answer_and_nothing_stored_is_upstream_failed_without_a_code()
    {
        _f.UpstreamFails(new SmsPartnerBadAnswerException("SMS Partner answered HTML."));

        var failed = Assert.IsType<LookupResult.UpstreamFailed>(await _f.Lookup.LookupAsync(LookupFixture.MonTag, OneMinute, default));

        Assert.Null(failed.UpstreamCode);
        Assert.Equal("SMS Partner answered HTML.", failed.Detail);
    }

    [Theory]
    [InlineData(null, 30)]
    [InlineData(7, 7)]
    [InlineData(0, 30)]
    [InlineData(5 * 3600, 3600)]
    public async Task Lookup_with_sms_partner_unreachable_and_nothing_stored_is_unavailable_with_a_bounded_retry_after(int? retryAfterSeconds, int expectedSeconds)
    {
        _f.UpstreamFails(new SmsPartnerUnavailableException("down", retryAfterSeconds is { } s ? TimeSpan.FromSeconds(s) : null));

        var down = Assert.IsType<LookupResult.Unavailable>(await _f.Lookup.LookupAsync(LookupFixture.MonTag, OneMinute, default));

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), down.RetryAfter);
    }

    [Fact]
    public async Task Lookup_with_storage_unreachable_is_unavailable_and_asks_nothing_upstream()
    {
        _f.Store.Setup(s => s.GetSummaryAsync(LookupFixture.MonTag, It.IsAny<CancellationToken>())).ThrowsAsync(new StoreUnavailableException("down"));

        var down = Assert.IsType<LookupResult.Unavailable>(await _f.Lookup.LookupAsync(LookupFixture.MonTag, OneMinute, default));

        Assert.True(down.RetryAfter > TimeSpan.Zero);
        _f.VerifyNoUpstreamCall();
    }

    [Fact]
    public async Task Lookup_with_storage_failing_on_the_live_save_is_unavailable()
    {
        _f.Upstream(Upstream("+33600000001", "Delivered"));
        _f.Store.Setup(s => s.SaveRefreshAsync(
                It.IsAny<IReadOnlyList<RecipientWrite>>(), It.IsAny<TagSummary>(), It.IsAny<StoredSummary?>(), It.IsAny<IReadOnlyList<TagCompanionRow>>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreUnavailableException("down"));

        Assert.IsType<LookupResult.Unavailable>(await _f.Lookup.LookupAsync(LookupFixture.MonTag, OneMinute, default));
    }

    [Fact]
    public async Task Lookup_that_keeps_losing_write_races_still_answers()
    {
        _f.Stored(TagState.Pending, _f.Now.AddHours(-1), WaitingAndDelivered);
        _f.Upstream(Upstream("+33600000001", "Delivered"), Upstream("+33600000002", "Delivered"));
        _f.Store.Setup(s => s.SaveRefreshAsync(
                It.IsAny<IReadOnlyList<RecipientWrite>>(), It.IsAny<TagSummary>(), It.IsAny<StoredSummary?>(), It.IsAny<IReadOnlyList<TagCompanionRow>>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreConflictException("raced"));

        var result = await _f.Lookup.LookupAsync(LookupFixture.MonTag, OneMinute, default);

        Assert.IsType<LookupResult.Found>(result);
    }

    [Theory]
    [InlineData(TagState.Pending, 60, 59, true)]
    [InlineData(TagState.Pending, 60, 60, true)]
    [InlineData(TagState.Pending, 60, 61, false)]
    [InlineData(TagState.Complete, 60, 100_000, true)]
    [InlineData(TagState.Expired, 1, 100_000, true)]
    [InlineData(TagState.Complete, 0, 0, false)]
    [InlineData(TagState.Pending, 0, 0, false)]
    public void IsServableFromStore_follows_maxAge_and_settlement(TagState state, int maxAgeSeconds, int ageSeconds, bool expected)
    {
        var now = T0.AddDays(1);
        var summary = Summary("montag", state, TagCounts.Empty, T0, now.AddSeconds(-ageSeconds));

        Assert.Equal(expected, TagLookupService.IsServableFromStore(summary, TimeSpan.FromSeconds(maxAgeSeconds), now));
    }
}
