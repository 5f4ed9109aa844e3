using Microsoft.Extensions.Logging;

namespace TagStatus.Core.SmsPartner.Budget;

/// <summary>A batch taken from the shared bucket: one call slot per token, 1/rate apart, the first at the take.</summary>
public sealed record BudgetGrant(IReadOnlyList<DateTimeOffset> Slots)
{
    public int Tokens => Slots.Count;
}

/// <summary>
/// One API key's bucket as every instance shares it: takes and 429 blocks are ETag-conditional writes of the row
/// (a 412 means another instance wrote first: re-read and reckon again), and an empty or blocked bucket is waited out on
/// the clock. It remembers the row as it last wrote or read it, so an uncontended take is one write, not a read and a write.
/// </summary>
public sealed class SharedTokenBucket(string keyHash, IBudgetStore store, BudgetRules rules, TimeProvider clock, ILogger logger)
{
    private StoredBucket? _lastSeen;

    /// <summary>Takes <paramref name="wanted"/> tokens once one is there; the others' slots lie in the next seconds.</summary>
    public async Task<BudgetGrant> TakeAsync(int wanted, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(wanted, 1);
        while (true)
        {
            var seen = Volatile.Read(ref _lastSeen) ?? await ReadOrCreateAsync(cancellationToken).ConfigureAwait(false);
            var now = clock.GetUtcNow();
            var state = seen.State.RefilledTo(now, rules);
            var wait = state.WaitForOneToken(now, rules);
            if (wait > TimeSpan.Zero)
            {
                // A row seen a while ago may be stale; the conditional write after the wait finds out.
                await Task.Delay(AtLeastOneMillisecond(wait), clock, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var written = await store.TryReplaceAsync(keyHash, state.Take(wanted), seen.ETag, cancellationToken).ConfigureAwait(false);
            if (written is null)
            {
                UpstreamBudgetLog.WriteConflict(logger, keyHash);
                Volatile.Write(ref _lastSeen, null);
                continue;
            }

            Volatile.Write(ref _lastSeen, written);
            return new BudgetGrant([.. Enumerable.Range(0, wanted).Select(i => state.SlotOf(i, rules))]);
        }
    }

    /// <summary>Stores that nobody calls before <paramref name="until"/> (a 429's <c>Retry-After</c>); a longer stored block stays.</summary>
    public async Task BlockAsync(DateTimeOffset until, CancellationToken cancellationToken)
    {
        while (true)
        {
            var seen = Volatile.Read(ref _lastSeen) ?? await ReadOrCreateAsync(cancellationToken).ConfigureAwait(false);
            var blocked = seen.State.BlockedUntilAtLeast(clock.GetUtcNow(), until, rules);
            if (blocked == seen.State)
            {
                return;
            }

            var written = await store.TryReplaceAsync(keyHash, blocked, seen.ETag, cancellationToken).ConfigureAwait(false);
            if (written is not null)
            {
                Volatile.Write(ref _lastSeen, written);
                return;
            }

            UpstreamBudgetLog.WriteConflict(logger, keyHash);
            Volatile.Write(ref _lastSeen, null);
        }
    }

    private async Task<StoredBucket> ReadOrCreateAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var stored = await store.ReadAsync(keyHash, cancellationToken).ConfigureAwait(false)
                ?? await store.TryCreateAsync(keyHash, BucketState.Full(clock.GetUtcNow(), rules), cancellationToken).ConfigureAwait(false);
            if (stored is not null)
            {
                return stored;
            }
        }
    }

    // Task.Delay rounds sub-millisecond waits to nothing, which would spin on a bucket a hair short of a token.
    private static TimeSpan AtLeastOneMillisecond(TimeSpan wait) => wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait;
}
