namespace TagStatus.Core.SmsPartner.Budget;

/// <summary>
/// The shape of one API key's shared budget, derived from <see cref="SmsPartnerOptions"/>.
/// Calls in any window of W seconds are at most <c>Capacity + Rate × (W + HoldTime)</c>: what the bucket held at the
/// start, its refill, and tokens taken up to <see cref="HoldTime"/> before the window and spent in it. With
/// <c>Capacity = BatchSize</c> and <c>HoldTime = (Rate − BatchSize) / Rate</c> seconds that is <c>Rate × (W + 1 s)</c>:
/// 5 calls/s allow 55 calls in 10 s (5.5/s), whatever the number of instances.
/// </summary>
public sealed record BudgetRules(int RatePerSecond, int BatchSize)
{
    /// <summary>How long a 429 without <c>Retry-After</c> stops every instance.</summary>
    public static readonly TimeSpan DefaultBlock = TimeSpan.FromSeconds(1);

    /// <summary>Most tokens the bucket holds: one batch, so an idle budget bursts by one batch at most.</summary>
    public int Capacity => BatchSize;

    /// <summary>How long this instance may keep tokens it took and has not spent yet; later they are dropped.</summary>
    public TimeSpan HoldTime => TimeSpan.FromSeconds((double)(RatePerSecond - BatchSize) / RatePerSecond);

    public static BudgetRules From(SmsPartnerOptions options) => new(options.RequestsPerSecond, options.BudgetBatchSize);
}
