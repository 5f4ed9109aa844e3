using Azure;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using TagStatus.Core.SmsPartner.Budget;
using TagStatus.Tests.Support;

namespace TagStatus.Tests.SmsPartner.Budget;

public sealed class SharedTokenBucketTests
{
    private const string Hash = "0123456789abcdef0123456789abcdef";
    private static readonly BudgetRules FivePerSecond = new(RatePerSecond: 5, BatchSize: 2);

    private readonly WaitableClock _clock = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly InMemoryBudgetStore _store = new();

    private SharedTokenBucket Bucket(IBudgetStore? store = null) => new(Hash, store ?? _store, FivePerSecond, _clock, NullLogger.Instance);

    [Fact]
    public async Task The_first_take_creates_a_full_row_and_reserves_a_batch_of_slots()
    {
        var now = _clock.GetUtcNow();

        var grant = await Bucket().TakeAsync(2, default);

        Assert.Equal([now, now.AddMilliseconds(200)], grant.Slots);
        Assert.Equal(-1, _store.StateOf(Hash)!.Value.Tokens, precision: 9);
    }

    [Fact]
    public async Task A_take_gets_what_it_asks_for()
    {
        var grant = await Bucket().TakeAsync(1, default);

        Assert.Equal(1, grant.Tokens);
        Assert.Equal(0, _store.StateOf(Hash)!.Value.Tokens, precision: 9);
    }

    [Fact]
    public async Task The_next_take_waits_on_the_clock_until_the_borrowed_tokens_are_paid_back()
    {
        var bucket = Bucket();
        await bucket.TakeAsync(2, default);

        var next = bucket.TakeAsync(2, default);
        _clock.Advance(TimeSpan.FromMilliseconds(399));
        Assert.False(next.IsCompleted);
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        var grant = await next;
        Assert.Equal(_clock.GetUtcNow(), grant.Slots[0]);
    }

    [Fact]
    public async Task A_wait_ends_with_the_callers_cancellation()
    {
        var bucket = Bucket();
        await bucket.TakeAsync(2, default);
        using var cancel = new CancellationTokenSource();

        var next = bucket.TakeAsync(1, cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => next);
    }

    [Fact]
    public async Task A_row_another_instance_changed_is_reread_and_reckoned_again()
    {
        var bucket = Bucket();
        var t0 = _clock.GetUtcNow();
        await bucket.TakeAsync(1, default);
        // Another instance reserved two more slots meanwhile.
        _store.Put(Hash, new BucketState(-2, t0, null));

        var timers = _clock.TimersCreated;
        var next = bucket.TakeAsync(1, default);
        _clock.Advance(TimeSpan.FromMilliseconds(200));
        await _clock.UntilTimersCreatedAsync(timers + 2); // after the 412 and the re-read, it waits again
        Assert.Equal(1, _store.Conflicts);
        Assert.False(next.IsCompleted);
        _clock.Advance(TimeSpan.FromMilliseconds(400));

        Assert.Equal(t0.AddMilliseconds(600), (await next).Slots[0]);
        Assert.Equal(0, _store.StateOf(Hash)!.Value.Tokens, precision: 9);
    }

    [Fact]
    public async Task A_412_leads_to_a_fresh_read_and_a_second_write_with_its_etag()
    {
        var now = _clock.GetUtcNow();
        var first = new StoredBucket(new BucketState(1, now, null), new ETag("\"1\""));
        var second = new StoredBucket(new BucketState(1, now, null), new ETag("\"2\""));
        var store = new Mock<IBudgetStore>(MockBehavior.Strict);
        store.SetupSequence(s => s.ReadAsync(Hash, It.IsAny<CancellationToken>())).ReturnsAsync(first).ReturnsAsync(second);
        store.Setup(s => s.TryReplaceAsync(Hash, It.IsAny<BucketState>(), new ETag("\"1\""), It.IsAny<CancellationToken>())).ReturnsAsync((StoredBucket?)null);
        store.Setup(s => s.TryReplaceAsync(Hash, It.IsAny<BucketState>(), new ETag("\"2\""), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string _, BucketState state, ETag _, CancellationToken _) => new StoredBucket(state, new ETag("\"3\"")));

        var grant = await Bucket(store.Object).TakeAsync(2, default);

        Assert.Equal(2, grant.Tokens);
        store.Verify(s => s.TryReplaceAsync(Hash, new BucketState(-1, now, null), new ETag("\"1\""), It.IsAny<CancellationToken>()), Times.Once);
        store.Verify(s => s.TryReplaceAsync(Hash, new BucketState(-1, now, null), new ETag("\"2\""), It.IsAny<CancellationToken>()), Times.Once);
        store.Verify(s => s.ReadAsync(Hash, It.IsAny<CancellationToken>()), Times.Exactly(2));
    }

    [Fact]
    public async Task Two_instances_take_from_the_one_row()
    {
        var one = Bucket();
        var two = Bucket();

        var a = await one.TakeAsync(1, default);
        var b = two.TakeAsync(1, default);

        Assert.Equal(1, a.Tokens);
        Assert.False(b.IsCompleted);
        _clock.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal(_clock.GetUtcNow(), (await b).Slots[0]);
        Assert.Equal(0, _store.StateOf(Hash)!.Value.Tokens, precision: 9);
    }

    [Fact]
    public async Task A_stored_block_makes_another_instance_wait_until_it_ends()
    {
        var blocker = Bucket();
        var other = Bucket();
        await other.TakeAsync(1, default);

        await blocker.BlockAsync(_clock.GetUtcNow().AddSeconds(3), default);
        var timers = _clock.TimersCreated;
        var take = other.TakeAsync(1, default);

        Assert.False(take.IsCompleted);
        _clock.Advance(TimeSpan.FromSeconds(3));
        await _clock.UntilTimersCreatedAsync(timers + 2); // its stale write failed, it read the block, and waits again
        Assert.False(take.IsCompleted); // the bucket restarts empty when the block ends
        _clock.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal(1, (await take).Tokens);
    }

    [Fact]
    public async Task A_shorter_block_does_not_shorten_a_stored_one()
    {
        var bucket = Bucket();
        var until = _clock.GetUtcNow().AddSeconds(10);
        await bucket.BlockAsync(until, default);
        var writes = _store.Writes;

        await Bucket().BlockAsync(_clock.GetUtcNow().AddSeconds(1), default);

        Assert.Equal(until, _store.StateOf(Hash)!.Value.BlockedUntil);
        Assert.Equal(writes, _store.Writes);
    }

    [Fact]
    public async Task A_storage_failure_surfaces_as_the_budget_being_unavailable()
    {
        var store = new Mock<IBudgetStore>();
        store.Setup(s => s.ReadAsync(Hash, It.IsAny<CancellationToken>())).ThrowsAsync(new UpstreamBudgetUnavailableException("down"));

        await Assert.ThrowsAsync<UpstreamBudgetUnavailableException>(() => Bucket(store.Object).TakeAsync(1, default));
    }
}
