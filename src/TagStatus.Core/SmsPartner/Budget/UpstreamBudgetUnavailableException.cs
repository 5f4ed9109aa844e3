namespace TagStatus.Core.SmsPartner.Budget;

/// <summary>
/// The shared budget in Table Storage cannot be read or written. The budget fails closed: no call goes out
/// uncounted, and the client turns this into <see cref="SmsPartnerUnavailableException"/> (a lookup's 503).
/// </summary>
public sealed class UpstreamBudgetUnavailableException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>What a caller is told to wait: storage outages are seldom shorter.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(30);
}
