namespace TagStatus.Core.SmsPartner.Budget;

/// <summary>
/// The shape of one API key's shared budget, derived from <see cref="SmsPartnerOptions"/>.
/// A take needs one whole token in the bucket and reserves <see cref="BatchSize"/> consecutive call slots, 1/rate apart:
/// the first now, the rest borrowed from the refill to come, so a batch saves storage writes without adding a burst.
/// The bucket holds one token, so slots are at least 1/rate apart whatever the number of instances; a slot is spent at
/// the earliest at its time and at the latest <see cref="HoldTime"/> after it. Calls sent in any window of W seconds are
/// then at most <c>1 + Rate × (W + HoldTime)</c>: 52 in 10 s at 5 calls/s. The 110 % that SMS Partner may see
/// (55) leaves at least another <see cref="HoldTime"/> for a call's way there: a loaded host, a slow network.
/// </summary>
public sealed record BudgetRules(int RatePerSecond, int BatchSize)
{
    /// <summary>How long a 429 without <c>Retry-After</c> stops every instance.</summary>
    public static readonly TimeSpan DefaultBlock = TimeSpan.FromSeconds(1);

    /// <summary>Most tokens the bucket holds: after a quiet spell one call goes at once, the next 1/rate later.</summary>
    public int Capacity => 1;

    /// <summary>
    /// How long after its slot a reserved call may still go; later the slot is dropped, never saved up. One slot's
    /// interval (a call is at most one slot late), at most half the 10 % headroom of a 10 s window ((Rate − 1) / (2 × Rate)),
    /// and at least 100 ms, or at 1 call/s every slot would be missed before its caller woke: 200 ms at 5 calls/s.
    /// </summary>
    public TimeSpan HoldTime => TimeSpan.FromSeconds(Math.Max(0.1, Math.Min(1.0 / RatePerSecond, (RatePerSecond - Capacity) / (2.0 * RatePerSecond))));

    public static BudgetRules From(SmsPartnerOptions options) => new(options.RequestsPerSecond, options.BudgetBatchSize);
}
