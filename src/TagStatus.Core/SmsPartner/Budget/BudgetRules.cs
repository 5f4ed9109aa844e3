namespace TagStatus.Core.SmsPartner.Budget;

/// <summary>
/// The shape of one API key's shared budget, derived from <see cref="SmsPartnerOptions"/>.
/// A take needs one whole token in the bucket and reserves <see cref="BatchSize"/> consecutive call slots, 1/rate apart:
/// the first now, the rest borrowed from the refill to come, so a batch saves storage writes without adding a burst.
/// The bucket holds one token, so slots are at least 1/rate apart whatever the number of instances; a slot is spent at
/// the earliest at its time and at the latest <see cref="HoldTime"/> after it. Calls sent in any window of W seconds are
/// then at most <c>1 + Rate × (W + HoldTime)</c>: 52 in 10 s at 5 calls/s. SMS Partner's 10 s windows hold at most
/// 110 % of the rate (55) while a call takes under 700 ms more to reach it: a loaded host, a slow network.
/// </summary>
public sealed record BudgetRules(int RatePerSecond, int BatchSize)
{
    /// <summary>How long a 429 without <c>Retry-After</c> stops every instance.</summary>
    public static readonly TimeSpan DefaultBlock = TimeSpan.FromSeconds(1);

    /// <summary>Most tokens the bucket holds: after a quiet spell one call goes at once, the next 1/rate later.</summary>
    public int Capacity => 1;

    /// <summary>
    /// How long after its slot a reserved call may still go; later the slot is dropped, never saved up. 300 ms at every
    /// rate: a slot's time is set before the storage write that reserves it, so the grace must outlast a slow write (a
    /// shorter one, tried, dropped every slot at 1 call/s once writes took longer); and any 10 s window holds at most
    /// 110 % of the rate's calls as long as grace plus a call's way to SMS Partner stay under a second (700 ms are left).
    /// </summary>
    public TimeSpan HoldTime => TimeSpan.FromMilliseconds(300);

    public static BudgetRules From(SmsPartnerOptions options) => new(options.RequestsPerSecond, options.BudgetBatchSize);
}
