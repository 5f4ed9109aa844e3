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
    /// Tokens this instance took for one key and has not spent yet, in front of the shared bucket: one caller at a time
    /// takes a batch from storage while the others queue here. Held tokens expire after <see cref="BudgetRules.HoldTime"/>.
    /// </summary>
    private sealed class LocalTokens(string keyHash, SharedTokenBucket bucket, BudgetRules rules, TimeProvider clock, ILogger logger)
    {
        private readonly SemaphoreSlim _takeGate = new(1, 1);
        private readonly Lock _sync = new();
        private int _held;
        private DateTimeOffset _expiresAt;

        public async Task AcquireAsync(CancellationToken cancellationToken)
        {
            if (TrySpendHeld())
            {
                return;
            }

            await _takeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (TrySpendHeld())
                {
                    return;
                }

                var grant = await bucket.TakeAsync(rules.BatchSize, cancellationToken).ConfigureAwait(false);
                lock (_sync)
                {
                    // One token is this caller's; the rest wait for the next callers, for a short while only.
                    _held = grant.Tokens - 1;
                    _expiresAt = grant.TakenAt + rules.HoldTime;
                }
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
                _held = 0;
            }

            UpstreamBudgetLog.Blocked(logger, keyHash, until);
            await bucket.BlockAsync(until, cancellationToken).ConfigureAwait(false);
        }

        private bool TrySpendHeld()
        {
            lock (_sync)
            {
                if (_held > 0 && clock.GetUtcNow() < _expiresAt)
                {
                    _held--;
                    return true;
                }

                _held = 0;
                return false;
            }
        }
    }
}
