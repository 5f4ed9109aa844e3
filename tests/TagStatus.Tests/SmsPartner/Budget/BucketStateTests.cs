using TagStatus.Core.SmsPartner.Budget;

namespace TagStatus.Tests.SmsPartner.Budget;

public sealed class BucketStateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
    private static readonly BudgetRules FivePerSecond = new(RatePerSecond: 5, BatchSize: 2);

    [Fact]
    public void A_new_bucket_holds_one_token()
    {
        var full = BucketState.Full(T0, FivePerSecond);

        Assert.Equal(1, full.WholeTokens);
        Assert.Null(full.BlockedUntil);
    }

    [Fact]
    public void Refill_adds_rate_times_elapsed()
    {
        var owing = new BucketState(-1, T0, null);

        var later = owing.RefilledTo(T0.AddMilliseconds(300), FivePerSecond);

        Assert.Equal(0.5, later.Tokens, precision: 9);
        Assert.Equal(T0.AddMilliseconds(300), later.RefilledAt);
        Assert.Equal(0, later.WholeTokens);
    }

    [Fact]
    public void Refill_stops_at_capacity()
    {
        var later = new BucketState(0, T0, null).RefilledTo(T0.AddMinutes(10), FivePerSecond);

        Assert.Equal(FivePerSecond.Capacity, later.Tokens);
    }

    [Fact]
    public void A_clock_behind_the_row_adds_nothing_and_never_moves_it_back()
    {
        var row = new BucketState(0.5, T0, null);

        var seenByLaggingInstance = row.RefilledTo(T0.AddMilliseconds(-800), FivePerSecond);

        Assert.Equal(row, seenByLaggingInstance);
    }

    [Theory]
    [InlineData(0.0, 200)]
    [InlineData(0.5, 100)]
    [InlineData(0.9, 20)]
    [InlineData(-1.0, 400)]
    public void An_empty_bucket_waits_for_the_missing_fraction_of_a_token(double tokens, int expectedMs)
    {
        var state = new BucketState(tokens, T0, null);

        Assert.Equal(expectedMs, state.WaitForOneToken(T0, FivePerSecond).TotalMilliseconds, precision: 3);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(1000)]
    public void A_token_a_hair_short_of_whole_is_still_a_wait_and_a_take_after_it_succeeds(int rate)
    {
        var rules = new BudgetRules(rate, BatchSize: 2);
        var almost = new BucketState(1 - 2e-9, T0, null); // under a tick's worth at either rate

        var wait = almost.WaitForOneToken(T0, rules);

        Assert.True(wait > TimeSpan.Zero, "a wait that rounds to zero lets the caller take a token that is not there");
        var afterWait = almost.RefilledTo(T0 + wait, rules);
        Assert.Equal(1, afterWait.WholeTokens);
        Assert.Equal(-1, afterWait.Take(2).Tokens, precision: 6);
    }

    [Fact]
    public void A_whole_token_means_no_wait()
    {
        Assert.Equal(TimeSpan.Zero, new BucketState(1, T0, null).WaitForOneToken(T0, FivePerSecond));
    }

    [Fact]
    public void A_take_needs_a_whole_token()
    {
        Assert.Throws<InvalidOperationException>(() => new BucketState(0.9, T0, null).Take(1));
    }

    [Fact]
    public void A_batch_borrows_from_the_refill_and_spaces_its_slots_by_the_rate()
    {
        var full = BucketState.Full(T0, FivePerSecond);

        var slots = Enumerable.Range(0, 3).Select(i => full.SlotOf(i, FivePerSecond)).ToList();
        var after = full.Take(3);

        Assert.Equal([T0, T0.AddMilliseconds(200), T0.AddMilliseconds(400)], slots);
        Assert.Equal(-2, after.Tokens);
        Assert.Equal(600, after.WaitForOneToken(T0, FivePerSecond).TotalMilliseconds, precision: 3);
    }

    [Fact]
    public void A_block_empties_the_bucket_until_it_ends_then_refills_from_zero()
    {
        var until = T0.AddSeconds(3);

        var blocked = BucketState.Full(T0, FivePerSecond).BlockedUntilAtLeast(T0, until, FivePerSecond);

        Assert.Equal(until, blocked.BlockedUntil);
        Assert.Equal(0, blocked.Tokens);
        Assert.Equal(TimeSpan.FromSeconds(3), blocked.RefilledTo(T0, FivePerSecond).WaitForOneToken(T0, FivePerSecond));
        var atEnd = blocked.RefilledTo(until, FivePerSecond);
        Assert.Equal(TimeSpan.FromMilliseconds(200), atEnd.WaitForOneToken(until, FivePerSecond));
        Assert.Equal(0, blocked.RefilledTo(until.AddMilliseconds(100), FivePerSecond).WholeTokens);
    }

    [Fact]
    public void A_block_still_owes_the_slots_reserved_past_its_end_and_no_others()
    {
        var owing = new BucketState(-2, T0, null); // slots reserved up to T0 + 400 ms

        Assert.Equal(-1, owing.BlockedUntilAtLeast(T0, T0.AddMilliseconds(200), FivePerSecond).Tokens, precision: 9);
        Assert.Equal(0, owing.BlockedUntilAtLeast(T0, T0.AddSeconds(3), FivePerSecond).Tokens);
    }

    [Fact]
    public void A_longer_stored_block_wins_over_a_shorter_one()
    {
        var blocked = BucketState.Full(T0, FivePerSecond).BlockedUntilAtLeast(T0, T0.AddSeconds(10), FivePerSecond);

        Assert.Equal(blocked, blocked.BlockedUntilAtLeast(T0, T0.AddSeconds(2), FivePerSecond));
        Assert.Equal(T0.AddSeconds(20), blocked.BlockedUntilAtLeast(T0, T0.AddSeconds(20), FivePerSecond).BlockedUntil);
    }

    /// <summary>
    /// The bound the design rests on, over random demand: call slots in any interval of length L are at most
    /// Capacity + Rate × L, however takes are spaced and however large their batches.
    /// </summary>
    [Theory]
    [InlineData(5, 1, 1)]
    [InlineData(5, 2, 2)]
    [InlineData(5, 5, 3)]
    [InlineData(50, 10, 4)]
    [InlineData(1, 1, 5)]
    public void Slots_in_any_interval_never_exceed_capacity_plus_refill(int rate, int batch, int seed)
    {
        var rules = new BudgetRules(rate, batch);
        var random = new Random(seed);
        var state = BucketState.Full(T0, rules);
        var now = T0;
        var slots = new List<DateTimeOffset>();
        for (var i = 0; i < 2_000; i++)
        {
            now = now.AddMilliseconds(random.Next(0, 400));
            state = state.RefilledTo(now, rules);
            if (state.WholeTokens >= 1)
            {
                var count = random.Next(1, batch + 1);
                slots.AddRange(Enumerable.Range(0, count).Select(k => state.SlotOf(k, rules)));
                state = state.Take(count);
            }
        }

        Assert.True(slots.Count > 100);
        foreach (var length in new[] { 0.0, 0.5, 1, 10, 60 })
        {
            foreach (var start in slots)
            {
                var taken = slots.Count(t => t >= start && t <= start.AddSeconds(length));
                Assert.True(taken <= rules.Capacity + rate * length + 1e-6, $"{taken} slots in {length} s from {start:O}");
            }
        }
    }
}
