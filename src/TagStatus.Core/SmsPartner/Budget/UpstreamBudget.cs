using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace TagStatus.Core.SmsPartner.Budget;

/// <summary>
/// The app-wide SMS Partner call budget, per API key: every attempt (retries included) on every instance spends one
/// token of the key's <see cref="SharedTokenBucket"/>. Keys are known here only by <see cref="HashOf"/>.
/// </summary>
public sealed class UpstreamBudget(IBudgetStore store, BudgetRules rules, TimeProvider clock, ILogger<UpstreamBudget> logger)
{
    /// <summary>
    /// DI key of an optional <see cref="TimeProvider"/> for the budget alone; without it the app's clock is used. Tests
    /// whose app clock stands still register a moving one here, or no token would ever refill.
    /// </summary>
    public const string ClockKey = "UpstreamBudget";

    private readonly ConcurrentDictionary<string, LocalTokens> _keys = new(StringComparer.Ordinal);

    /// <summary>Waits for one call's token for <paramref name="apiKey"/>.</summary>
    /// <exception cref="UpstreamBudgetUnavailableException">The shared budget cannot be reached: no call may go out.</exception>
    public Task AcquireAsync(string apiKey, CancellationToken cancellationToken) => For(apiKey).AcquireAsync(cancellationToken);

    /// <summary>SMS Partner answered 429: every instance waits <paramref name="retryAfter"/> (or <see cref="BudgetRules.DefaultBlock"/>).</summary>
    public Task ReportTooManyRequestsAsync(string apiKey, TimeSpan? retryAfter, CancellationToken cancellationToken)
    {
        var wait = retryAfter is { } given && given > TimeSpan.Zero ? given : BudgetRules.DefaultBlock;
        return For(apiKey).BlockAsync(clock.GetUtcNow() + wait, cancellationToken);
    }

    /// <summary>What identifies a key in storage and logs: SHA-256 of the key, with a purpose prefix, 128 bits in hex.</summary>
    public static string HashOf(string apiKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("TagStatus upstream budget\n" + apiKey)))[..32];

    private LocalTokens For(string apiKey) =>
        _keys.GetOrAdd(HashOf(apiKey), hash => new LocalTokens(hash, new SharedTokenBucket(hash, store, rules, clock, logger), rules, clock, logger));

    /// <summary>
    /// The call slots this instance reserved for one key and has not used yet, in front of the shared bucket: one caller
    /// at a time takes a batch from storage while the others queue here, then each caller waits for its own slot.
    /// A slot not used within <see cref="BudgetRules.HoldTime"/> after its time is dropped.
    /// </summary>
    private sealed class LocalTokens(string keyHash, SharedTokenBucket bucket, BudgetRules rules, TimeProvider clock, ILogger logger)
    {
        private readonly SemaphoreSlim _takeGate = new(1, 1);
        private readonly Lock _sync = new();
        private readonly Queue<DateTimeOffset> _held = new();

        public async Task AcquireAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                var slot = await TakeSlotAsync(cancellationToken).ConfigureAwait(false);

                // Outside the gate: the next caller takes the next slot while this one waits for its own.
                var wait = slot - clock.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, clock, cancellationToken).ConfigureAwait(false);
                }

                // A caller that woke too late (a stalled process) would spend its slot where later slots already are,
                // and bunch calls above the rate: the slot is lost and it takes another.
                if (clock.GetUtcNow() <= slot + rules.HoldTime)
                {
                    return;
                }

                UpstreamBudgetLog.SlotMissed(logger, keyHash, slot);
            }
        }

        private async Task<DateTimeOffset> TakeSlotAsync(CancellationToken cancellationToken)
        {
            await _takeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (TryTakeHeld(out var slot))
                {
                    return slot;
                }

                var grant = await bucket.TakeAsync(rules.BatchSize, cancellationToken).ConfigureAwait(false);
                lock (_sync)
                {
                    _held.Clear();
                    foreach (var later in grant.Slots.Skip(1))
                    {
                        _held.Enqueue(later);
                    }
                }

                return grant.Slots[0];
            }
            finally
            {
                _takeGate.Release();
            }
        }

        public async Task BlockAsync(DateTimeOffset until, CancellationToken cancellationToken)
        {
            lock (_sync)
            {
                _held.Clear();
            }

            UpstreamBudgetLog.Blocked(logger, keyHash, until);
            await bucket.BlockAsync(until, cancellationToken).ConfigureAwait(false);
        }

        private bool TryTakeHeld(out DateTimeOffset slot)
        {
            var now = clock.GetUtcNow();
            lock (_sync)
            {
                while (_held.TryDequeue(out slot))
                {
                    if (now <= slot + rules.HoldTime)
                    {
                        return true;
                    }
                }

                return false;
            }
        }
    }
}
