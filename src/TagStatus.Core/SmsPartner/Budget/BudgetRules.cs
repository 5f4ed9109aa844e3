namespace TagStatus.Core.SmsPartner.Budget;

/// <summary>
/// The shape of one API key's shared budget, derived from <see cref="SmsPartnerOptions"/>.
/// A take needs one whole token in the bucket and reserves <see cref="BatchSize"/> consecutive call slots, 1/rate apart:
/// the first now, the rest borrowed from the refill to come, so a batch saves storage writes without adding a burst.
/// A slot is spent at the earliest at its time and at the latest <see cref="HoldTime"/> after it. Calls in any window of
/// W seconds are then at most <c>Capacity + Rate × (W + HoldTime)</c> = <c>Rate × (W + 1 s)</c>: 5 calls/s allow 55
/// calls in 10 s (5.5/s) whatever the number of instances, and about 51 when slots are spent on time.
/// </summary>
public sealed record BudgetRules(int RatePerSecond, int BatchSize)
{
    /// <summary>How long a 429 without <c>Retry-After</c> stops every instance.</summary>
    public static readonly TimeSpan DefaultBlock = TimeSpan.FromSeconds(1);

    /// <summary>Most tokens the bucket holds: after a quiet spell one call goes at once, the next 1/rate later.</summary>
    public int Capacity => 1;

    /// <summary>How long after its slot a reserved call may still go; later the slot is dropped, never saved up.</summary>
    public TimeSpan HoldTime => TimeSpan.FromSeconds((double)(RatePerSecond - Capacity) / RatePerSecond);

    public static BudgetRules From(SmsPartnerOptions options) => new(options.RequestsPerSecond, options.BudgetBatchSize);
}
