using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using TagStatus.Core.Queues;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Tracking;

/// <summary>The timer's run: it claims due schedule rows within the pages budget and queues one message per tag.</summary>
public sealed class RefreshRunnerTests
{
    private readonly FakeTimeProvider _time = new(T0.AddHours(1));
    private readonly Mock<ITagStore> _store = new();
    private readonly Mock<IWorkQueue> _queue = new();
    private readonly TrackingOptions _options = new() { PagesPerRun = 100, PagesPerMessage = 60, RefreshLease = TimeSpan.FromMinutes(10) };
    private readonly FakeLogger<RefreshRunner> _logger = new();
    private readonly List<RefreshMessage> _queued = [];
    private readonly List<DueTag> _claimed = [];

    public RefreshRunnerTests()
    {
        _store.Setup(s => s.ClaimDueAsync(It.IsAny<DueTag>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()))
            .Callback((DueTag due, DateTimeOffset _, CancellationToken _) => _claimed.Add(due))
            .ReturnsAsync((DueTag due, DateTimeOffset until, CancellationToken _) => due with { DueAt = until });
        _queue.Setup(q => q.EnqueueRefreshAsync(It.IsAny<RefreshMessage>(), It.IsAny<CancellationToken>()))
            .Callback((RefreshMessage m, CancellationToken _) => _queued.Add(m))
            .Returns(Task.CompletedTask);
        InFlight();
        // The sweep is not due on these runs.
        _store.Setup(s => s.TryClaimSweepAsync(It.IsAny<DateTimeOffset>(), It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>())).ReturnsAsync(false);
    }

    private RefreshRunner Runner()
    {
        var sweep = new RefreshSweep(_store.Object, Mock.Of<IPassStore>(), Mock.Of<ICallbackStore>(), _queue.Object, Options.Create(_options), _time, NullLogger<RefreshSweep>.Instance);
        return new RefreshRunner(_store.Object, _queue.Object, sweep, Options.Create(_options), _time, _logger);
    }

    private DueTag Row(string tag, int pages = 1, int minutesLate = 1) => new(Tag.Parse(tag), _time.GetUtcNow().AddMinutes(-minutesLate), pages);

    /// <summary>Claims still running, as the schedule holds them: each a lease ahead.</summary>
    private void InFlight(params DueTag[] claims) =>
        _store.Setup(s => s.GetClaimsInFlightAsync(It.IsAny<DateTimeOffset>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>())).ReturnsAsync(claims);

    private DueTag Claim(string tag, int pages) => new(Tag.Parse(tag), _time.GetUtcNow() + _options.RefreshLease, pages, Claimed: true);

    private void Due(params DueTag[] rows) =>
        _store.Setup(s => s.GetDueTagsAsync(It.IsAny<DateTimeOffset>(), It.IsAny<int>(), It.IsAny<CancellationToken>())).ReturnsAsync(rows);

    [Fact]
    public async Task Every_due_tag_is_claimed_and_queued_in_the_schedules_order()
    {
        Due(Row("alpha", minutesLate: 9), Row("bravo", minutesLate: 5), Row("charlie"));

        var summary = await Runner().RunAsync(default);

        Assert.Equal(["alpha", "bravo", "charlie"], _queued.Select(m => m.Tag));
        Assert.Equal(new RefreshRunSummary(3, 3, 3, 0, 0, summary.Duration), summary);
    }

    [Fact]
    public async Task Due_rows_are_read_as_of_now_and_at_most_the_claims_per_run()
    {
        Due();

        await Runner().RunAsync(default);

        _store.Verify(s => s.GetDueTagsAsync(_time.GetUtcNow(), _options.MaxClaimsPerRun, It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_claim_moves_the_row_ahead_by_the_lease_and_the_message_names_the_claimed_row()
    {
        Due(Row("alpha"));

        await Runner().RunAsync(default);

        var until = _time.GetUtcNow() + _options.RefreshLease;
        _store.Verify(s => s.ClaimDueAsync(It.IsAny<DueTag>(), until, It.IsAny<CancellationToken>()), Times.Once);
        Assert.Equal(new RefreshMessage("alpha", until), Assert.Single(_queued));
    }

    [Fact]
    public async Task Tags_past_the_pages_budget_wait_for_the_next_run_oldest_first()
    {
        Due(Row("alpha", pages: 60, minutesLate: 9), Row("bravo", pages: 30, minutesLate: 5), Row("charlie", pages: 20), Row("delta", pages: 5));

        var summary = await Runner().RunAsync(default);

        // 60 + 30 fit in 100; charlie (20) would not, and nothing younger jumps the queue.
        Assert.Equal(["alpha", "bravo"], _queued.Select(m => m.Tag));
        Assert.Equal(90, summary.PagesQueued);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Message.Contains("2 left for the next run", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_big_tag_costs_only_one_messages_pages_since_its_next_steps_are_follow_ups()
    {
        Due(Row("huge", pages: 5000, minutesLate: 9), Row("small", pages: 1, minutesLate: 5), Row("big", pages: 500));

        var summary = await Runner().RunAsync(default);

        // huge costs 60 (its first step), small 1; big's 60 would pass 100, so it waits, first in line next run.
        Assert.Equal(["huge", "small"], _queued.Select(m => m.Tag));
        Assert.Equal(61, summary.PagesQueued);
    }

    [Fact]
    public async Task A_message_share_bigger_than_the_whole_budget_still_goes_alone_so_no_tag_waits_for_ever()
    {
        _options.PagesPerRun = 10;
        Due(Row("huge", pages: 5000), Row("small"));

        await Runner().RunAsync(default);

        Assert.Equal(["huge"], _queued.Select(m => m.Tag));
    }

    [Fact]
    public async Task Claims_still_running_are_read_over_one_lease_and_their_pages_come_off_the_runs_share()
    {
        InFlight(Claim("running", pages: 30), Claim("passing", pages: 5000));
        Due(Row("alpha", pages: 20, minutesLate: 9), Row("bravo", pages: 20, minutesLate: 5), Row("charlie", pages: 20));

        var summary = await Runner().RunAsync(default);

        // 30 + 60 (one message of the pass) in flight leave 10 of 100: under half the share, so single-message tags get
        // half (50): alpha and bravo; charlie's 20 would pass it.
        _store.Verify(s => s.GetClaimsInFlightAsync(_time.GetUtcNow(), _time.GetUtcNow() + _options.RefreshLease, It.IsAny<CancellationToken>()), Times.Once);
        Assert.Equal(["alpha", "bravo"], _queued.Select(m => m.Tag));
        Assert.Equal(90, summary.PagesInFlight);
        Assert.Equal(40, summary.PagesQueued);
    }

    [Fact]
    public async Task A_new_big_pass_waits_for_room_while_small_tags_behind_it_keep_their_turn()
    {
        InFlight(Claim("passing", pages: 5000));
        Due(Row("big", pages: 500, minutesLate: 9), Row("small", pages: 1, minutesLate: 5));

        await Runner().RunAsync(default);

        // 60 in flight + big's 60 would pass 100: the big pass does not start; small still goes.
        Assert.Equal(["small"], _queued.Select(m => m.Tag));
        InFlight();
        _queued.Clear();

        await Runner().RunAsync(default);

        Assert.Equal(["big", "small"], _queued.Select(m => m.Tag)); // first in line once the pass in flight is done
    }

    [Fact]
    public async Task With_a_full_share_in_flight_tags_that_fit_one_message_still_get_half_a_run()
    {
        InFlight(Claim("p1", 5000), Claim("p2", 5000));
        Due([.. Enumerable.Range(1, 80).Select(i => Row($"small-{i:D2}", pages: 1, minutesLate: 90 - i))]);

        var summary = await Runner().RunAsync(default);

        Assert.Equal(50, summary.TagsQueued);
        Assert.Equal(120, summary.PagesInFlight);
    }

    [Fact]
    public async Task A_big_pass_that_has_waited_a_lease_goes_first_whatever_is_in_flight()
    {
        InFlight(Claim("p1", 5000), Claim("p2", 5000));
        Due(Row("big", pages: 500, minutesLate: 11), Row("small", pages: 1, minutesLate: 5));

        await Runner().RunAsync(default);

        // 11 minutes late, past the 10-minute lease: it goes though 120 pages are in flight; its 60 then fill the half run.
        Assert.Equal(["big"], _queued.Select(m => m.Tag));
    }

    [Fact]
    public async Task A_row_another_run_claimed_first_is_not_queued()
    {
        Due(Row("alpha"), Row("bravo"));
        _store.Setup(s => s.ClaimDueAsync(It.Is<DueTag>(d => d.Tag.Value == "alpha"), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>())).ReturnsAsync((DueTag?)null);

        var summary = await Runner().RunAsync(default);

        Assert.Equal(["bravo"], _queued.Select(m => m.Tag));
        Assert.Equal(1, summary.TagsQueued);
    }

    [Fact]
    public async Task A_replayed_run_finds_the_claimed_rows_no_longer_due_and_queues_nothing()
    {
        Due(Row("alpha"));
        await Runner().RunAsync(default);
        Due(); // the claim moved the row a lease ahead

        var replay = await Runner().RunAsync(default);

        Assert.Equal(0, replay.TagsDue);
        Assert.Single(_queued);
    }

    [Fact]
    public async Task Storage_out_of_reach_is_one_failure_and_queues_nothing()
    {
        _store.Setup(s => s.GetDueTagsAsync(It.IsAny<DateTimeOffset>(), It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreUnavailableException("Table Storage could not be reached."));

        var summary = await Runner().RunAsync(default);

        Assert.Equal(1, summary.Failures);
        Assert.Empty(_queued);
    }

    [Fact]
    public async Task A_queue_out_of_reach_stops_the_run_and_the_claimed_row_comes_due_after_its_lease()
    {
        Due(Row("alpha"), Row("bravo"));
        _queue.Setup(q => q.EnqueueRefreshAsync(It.IsAny<RefreshMessage>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreUnavailableException("Queue Storage could not be reached."));

        var summary = await Runner().RunAsync(default);

        Assert.Equal(1, summary.Failures);
        Assert.Equal(0, summary.TagsQueued);
        Assert.Equal(["alpha"], _claimed.Select(d => d.Tag.Value)); // claimed, so it is due again when the lease ends
    }

    [Fact]
    public async Task The_run_reads_no_summary_and_no_recipient()
    {
        Due(Row("alpha"), Row("bravo"));

        await Runner().RunAsync(default);

        _store.Verify(s => s.GetSummaryAsync(It.IsAny<Tag>(), It.IsAny<CancellationToken>()), Times.Never);
        _store.Verify(s => s.ReadRecipientsAsync(It.IsAny<Tag>(), It.IsAny<RecipientRange>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task The_run_logs_one_structured_summary()
    {
        Due(Row("alpha", pages: 3));

        await Runner().RunAsync(default);

        var record = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Id.Id == 4201);
        Assert.Equal("1", record.GetStructuredStateValue("TagsDue"));
        Assert.Equal("1", record.GetStructuredStateValue("TagsQueued"));
        Assert.Equal("3", record.GetStructuredStateValue("PagesQueued"));
        Assert.Equal("0", record.GetStructuredStateValue("PagesInFlight"));
    }
}
