using Microsoft.Extensions.Options;
using TagStatus.Core.Domain;
using TagStatus.Core.Tracking;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Domain;

public sealed class TagStateRulesTests
{
    private static readonly TimeSpan Window = TimeSpan.FromHours(48);
    private static readonly TimeSpan Margin = TimeSpan.FromHours(6);

    private static TagStateRules Rules(TimeSpan? maxFailureDelay = null) => new(Options.Create(new TrackingOptions
    {
        Window = Window,
        Margin = Margin,
        MaxFailureDelay = maxFailureDelay ?? TimeSpan.FromHours(1),
    }));

    private static readonly TagCounts AllDone = new(3, 2, 1, 0, 0);
    private static readonly TagCounts OneWaiting = new(3, 1, 1, 1, 0);

    [Fact]
    public void A_tag_with_nothing_waiting_and_a_complete_answer_is_complete()
    {
        Assert.Equal(TagState.Complete, Rules().Decide(AllDone, fullPass: true, T0, T0.AddMinutes(1)));
    }

    [Fact]
    public void A_tag_with_an_unknown_status_is_not_complete()
    {
        // Issue 12 changed this: an unknown status is not settled (it used to count as complete).
        Assert.Equal(TagState.Pending, Rules().Decide(new TagCounts(2, 1, 0, 0, 1), fullPass: true, T0, T0));
    }

    [Fact]
    public void A_tag_whose_last_rows_stay_unknown_ends_expired()
    {
        Assert.Equal(TagState.Expired, Rules().Decide(new TagCounts(2, 1, 0, 0, 1), fullPass: true, T0, T0 + Window + Margin));
    }

    [Fact]
    public void A_tag_is_never_complete_on_an_incomplete_answer()
    {
        Assert.Equal(TagState.Pending, Rules().Decide(AllDone, fullPass: false, T0, T0.AddMinutes(1)));
    }

    [Fact]
    public void An_incomplete_answer_after_the_window_is_expired_not_complete()
    {
        Assert.Equal(TagState.Expired, Rules().Decide(AllDone, fullPass: false, T0, T0 + Window + Margin));
    }

    [Fact]
    public void A_waiting_tag_expires_exactly_at_first_seen_plus_window_plus_margin()
    {
        var rules = Rules();
        var expiresAt = T0 + Window + Margin;

        Assert.Equal(expiresAt, rules.ExpiresAt(T0));
        Assert.Equal(TagState.Expired, rules.Decide(OneWaiting, true, T0, expiresAt));
        Assert.Equal(TagState.Pending, rules.Decide(OneWaiting, true, T0, expiresAt.AddTicks(-1)));
    }

    [Fact]
    public void A_waiting_tag_inside_the_window_is_pending()
    {
        Assert.Equal(TagState.Pending, Rules().Decide(OneWaiting, true, T0, T0 + Window));
    }

    [Fact]
    public void A_complete_tag_stays_complete_after_the_window()
    {
        Assert.Equal(TagState.Complete, Rules().Decide(AllDone, true, T0, T0 + Window + Margin + TimeSpan.FromDays(10)));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(9 * 60 + 59, 1)]
    [InlineData(10 * 60, 5)]
    [InlineData(59 * 60, 5)]
    [InlineData(60 * 60, 15)]
    [InlineData(6 * 3600 - 1, 15)]
    [InlineData(6 * 3600, 60)]
    [InlineData(40 * 3600, 60)]
    public void Next_refresh_follows_the_default_backoff_by_age(int ageSeconds, int everyMinutes)
    {
        var now = T0.AddSeconds(ageSeconds);

        var next = Rules().NextRefreshAt(TagState.Pending, T0, now);

        Assert.Equal(now.AddMinutes(everyMinutes), next);
    }

    [Fact]
    public void Next_refresh_is_capped_at_the_expiry_time()
    {
        var rules = Rules();
        var now = rules.ExpiresAt(T0).AddMinutes(-10);

        Assert.Equal(rules.ExpiresAt(T0), rules.NextRefreshAt(TagState.Pending, T0, now));
    }

    [Theory]
    [InlineData(TagState.Complete)]
    [InlineData(TagState.Expired)]
    public void A_settled_tag_has_no_next_refresh(TagState state) =>
        Assert.Null(Rules().NextRefreshAt(state, T0, T0.AddMinutes(1)));

    [Fact]
    public void Configured_backoff_steps_replace_the_default()
    {
        var rules = new TagStateRules(Options.Create(new TrackingOptions
        {
            Backoff = [new RefreshStep { UpTo = TimeSpan.FromMinutes(30), Every = TimeSpan.FromSeconds(20) }, new RefreshStep { UpTo = TimeSpan.FromHours(2), Every = TimeSpan.FromMinutes(7) }],
        }));

        Assert.Equal(T0.AddMinutes(1).AddSeconds(20), rules.NextRefreshAt(TagState.Pending, T0, T0.AddMinutes(1)));
        Assert.Equal(T0.AddHours(1).AddMinutes(7), rules.NextRefreshAt(TagState.Pending, T0, T0.AddHours(1)));
        // Past the last step, the last interval goes on.
        Assert.Equal(T0.AddHours(5).AddMinutes(7), rules.NextRefreshAt(TagState.Pending, T0, T0.AddHours(5)));
    }

    [Fact]
    public void Next_retry_doubles_the_usual_interval_per_failure()
    {
        var rules = Rules(maxFailureDelay: TimeSpan.FromDays(1));
        var now = T0.AddHours(2); // usual interval 15 min

        Assert.Equal(now.AddMinutes(15), rules.NextRetryAt(0, T0, now));
        Assert.Equal(now.AddMinutes(30), rules.NextRetryAt(1, T0, now));
        Assert.Equal(now.AddMinutes(60), rules.NextRetryAt(2, T0, now));
        Assert.Equal(now.AddMinutes(120), rules.NextRetryAt(3, T0, now));
    }

    [Fact]
    public void Next_retry_is_capped_by_the_max_failure_delay()
    {
        var rules = Rules(maxFailureDelay: TimeSpan.FromMinutes(45));
        var now = T0.AddHours(2);

        Assert.Equal(now.AddMinutes(45), rules.NextRetryAt(5, T0, now));
        Assert.Equal(now.AddMinutes(45), rules.NextRetryAt(int.MaxValue, T0, now));
    }

    [Fact]
    public void Next_retry_waits_at_least_30_seconds()
    {
        var rules = Rules();
        var now = rules.ExpiresAt(T0).AddSeconds(-1); // usual interval capped to 1 s by the expiry

        Assert.Equal(now.AddSeconds(30), rules.NextRetryAt(0, T0, now));
    }
}
