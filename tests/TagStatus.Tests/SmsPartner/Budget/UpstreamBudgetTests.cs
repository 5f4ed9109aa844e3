using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using TagStatus.Core.SmsPartner.Budget;
using TagStatus.Tests.Support;

namespace TagStatus.Tests.SmsPartner.Budget;

public sealed class UpstreamBudgetTests
{
    private const string Key = "SECRET-KEY-123";
    private static readonly BudgetRules FivePerSecond = new(RatePerSecond: 5, BatchSize: 2);

    private readonly WaitableClock _clock = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly InMemoryBudgetStore _store = new();
    private readonly FakeLogger<UpstreamBudget> _logger = new();

    private UpstreamBudget Instance() => new(_store, FivePerSecond, _clock, _logger);

    [Fact]
    public void The_hash_is_stable_hex_and_differs_per_key()
    {
        var hash = UpstreamBudget.HashOf(Key);

        Assert.Equal(hash, UpstreamBudget.HashOf(Key));
        Assert.Matches("^[0-9a-f]{32}$", hash);
        Assert.NotEqual(hash, UpstreamBudget.HashOf(Key + "x"));
    }

    [Fact]
    public async Task A_batch_serves_two_calls_with_one_storage_write_the_second_a_slot_later()
    {
        var budget = Instance();

        await budget.AcquireAsync(Key, default);
        var second = budget.AcquireAsync(Key, default);

        Assert.Equal(2, _store.Writes); // the row's creation, then one take of two slots
        Assert.False(second.IsCompleted);
        _clock.Advance(TimeSpan.FromMilliseconds(200));
        await second;
        Assert.Equal(2, _store.Writes);

        var third = budget.AcquireAsync(Key, default);
        Assert.False(third.IsCompleted);
        _clock.Advance(TimeSpan.FromMilliseconds(200));
        await third;
        Assert.Equal(3, _store.Writes);
    }

    [Fact]
    public async Task A_slot_unused_past_its_grace_is_dropped_not_saved_up()
    {
        var budget = Instance();
        await budget.AcquireAsync(Key, default); // reserves two slots, holds the second (now + 200 ms)
        _clock.Advance(TimeSpan.FromMilliseconds(200) + FivePerSecond.HoldTime + TimeSpan.FromMilliseconds(1));

        var writes = _store.Writes;
        await budget.AcquireAsync(Key, default);

        Assert.Equal(writes + 1, _store.Writes);
    }

    [Fact]
    public async Task A_caller_that_wakes_past_its_slots_grace_takes_another_slot_instead_of_bunching_calls()
    {
        var budget = Instance();
        await budget.AcquireAsync(Key, default); // reserves now and now + 200 ms
        var stalled = budget.AcquireAsync(Key, default); // waits for the slot at + 200 ms
        var writes = _store.Writes;

        // The process stalls: the waiting caller wakes long after its slot and the slot's grace.
        _clock.Advance(TimeSpan.FromMilliseconds(200) + FivePerSecond.HoldTime + TimeSpan.FromMilliseconds(1));

        await stalled;
        Assert.Equal(writes + 1, _store.Writes); // it went back to the shared bucket for a fresh slot
    }

    [Theory]
    [InlineData(1)] // a grace of zero (what 1 call/s used to get) missed every slot as the clock moved on
    [InlineData(250)] // a slow write: the slot's time is set before the write that reserves it
    public async Task At_one_call_a_second_a_slot_outlives_the_storage_write_that_reserves_it(int writeMilliseconds)
    {
        var slow = new SlowBudgetStore(_store, _clock, TimeSpan.FromMilliseconds(writeMilliseconds));
        var budget = new UpstreamBudget(slow, new BudgetRules(RatePerSecond: 1, BatchSize: 1), _clock, _logger);

        // A missed slot would make the caller wait for the next token, on this clock that only the test moves: it would
        // never come, and the wait below times out.
        await budget.AcquireAsync(Key, default).WaitAsync(TimeSpan.FromSeconds(5));
        var second = budget.AcquireAsync(Key, default);
        _clock.Advance(TimeSpan.FromSeconds(1));
        await second.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(3, _store.Writes); // the row's creation and one take per call, no slot missed
    }

    /// <summary>The store with every conditional write taking <paramref name="latency"/> on the clock, as a busy or distant account does.</summary>
    private sealed class SlowBudgetStore(IBudgetStore inner, FakeTimeProvider clock, TimeSpan latency) : IBudgetStore
    {
        public Task<StoredBucket?> ReadAsync(string keyHash, CancellationToken cancellationToken) => inner.ReadAsync(keyHash, cancellationToken);

        public Task<StoredBucket?> TryCreateAsync(string keyHash, BucketState state, CancellationToken cancellationToken) => inner.TryCreateAsync(keyHash, state, cancellationToken);

        public Task<StoredBucket?> TryReplaceAsync(string keyHash, BucketState state, Azure.ETag expected, CancellationToken cancellationToken)
        {
            clock.Advance(latency);
            return inner.TryReplaceAsync(keyHash, state, expected, cancellationToken);
        }
    }

    [Fact]
    public async Task Instances_share_one_bucket_per_key()
    {
        var one = Instance();
        var two = Instance();
        await one.AcquireAsync(Key, default); // reserves now and now + 200 ms

        var waiting = two.AcquireAsync(Key, default);

        _clock.Advance(TimeSpan.FromMilliseconds(399));
        Assert.False(waiting.IsCompleted);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        await waiting;
    }

    [Fact]
    public async Task Different_keys_have_different_buckets()
    {
        var budget = Instance();
        await budget.AcquireAsync(Key, default);

        var other = budget.AcquireAsync("OTHER-KEY", default);

        Assert.True(other.IsCompletedSuccessfully);
        Assert.Equal(2, _store.Keys.Count);
    }

    [Fact]
    public async Task Storage_and_logs_know_the_key_only_by_its_hash()
    {
        var budget = Instance();
        await budget.AcquireAsync(Key, default);
        await budget.ReportTooManyRequestsAsync(Key, TimeSpan.FromSeconds(2), default);

        Assert.Equal([UpstreamBudget.HashOf(Key)], _store.Keys);
        var records = _logger.Collector.GetSnapshot();
        Assert.NotEmpty(records);
        Assert.All(records, r => Assert.DoesNotContain(Key, r.Message, StringComparison.Ordinal));
        Assert.Contains(records, r => r.Message.Contains(UpstreamBudget.HashOf(Key), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_429_stores_retry_after_so_another_instance_waits_it_out()
    {
        var hit = Instance();
        var other = Instance();
        var t0 = _clock.GetUtcNow();
        await other.AcquireAsync(Key, default); // other reserved two slots and holds the second...

        await hit.ReportTooManyRequestsAsync(Key, TimeSpan.FromSeconds(5), default);

        Assert.Equal(t0.AddSeconds(5), _store.StateOf(UpstreamBudget.HashOf(Key))!.Value.BlockedUntil);
        var held = other.AcquireAsync(Key, default);
        _clock.Advance(TimeSpan.FromMilliseconds(200));
        await held; // ...which it may still spend: at most a batch, within the grace
        var timers = _clock.TimersCreated;
        var afterBlock = other.AcquireAsync(Key, default);
        _clock.Advance(TimeSpan.FromSeconds(4.8));
        await _clock.UntilTimersCreatedAsync(timers + 2); // its stale write failed, it read the block, and waits again
        Assert.False(afterBlock.IsCompleted); // the bucket restarts empty when the block ends
        _clock.Advance(TimeSpan.FromMilliseconds(200));
        await afterBlock;
    }

    [Fact]
    public async Task A_429_drops_the_slots_this_instance_holds()
    {
        var budget = Instance();
        await budget.AcquireAsync(Key, default); // holds a slot at now + 200 ms

        await budget.ReportTooManyRequestsAsync(Key, TimeSpan.FromSeconds(1), default);
        var next = budget.AcquireAsync(Key, default);

        _clock.Advance(TimeSpan.FromMilliseconds(200));
        Assert.False(next.IsCompleted);
        _clock.Advance(TimeSpan.FromSeconds(1));
        await next;
    }

    [Theory]
    [InlineData(null)]
    [InlineData(0)]
    [InlineData(-3)]
    public async Task A_429_without_a_usable_retry_after_blocks_for_the_default(int? seconds)
    {
        var budget = Instance();

        await budget.ReportTooManyRequestsAsync(Key, seconds is { } s ? TimeSpan.FromSeconds(s) : null, default);

        Assert.Equal(_clock.GetUtcNow() + BudgetRules.DefaultBlock, _store.StateOf(UpstreamBudget.HashOf(Key))!.Value.BlockedUntil);
    }
}
