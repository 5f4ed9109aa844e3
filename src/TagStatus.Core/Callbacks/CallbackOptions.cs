using System.ComponentModel.DataAnnotations;

namespace TagStatus.Core.Callbacks;

/// <summary>Section <c>Callbacks</c>. The signing key itself comes from <see cref="Secrets.ISecretSource"/>.</summary>
public sealed class CallbackOptions : IValidatableObject
{
    public const string SectionName = "Callbacks";

    /// <summary>Allows <c>http</c> and loopback or private addresses: for local work only, never in Azure.</summary>
    public bool AllowInsecureUrls { get; set; }

    [Range(1, 50)]
    public int MaxAttempts { get; set; } = 12;

    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(2);

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A change's outbox rows (up to two events, each to every subscriber) go in one transaction with the summary, so
    /// the two caps together stay at most <see cref="MaxSubscribersPerEvent"/>: 2 × 49 rows and the summary fit its 100 actions.
    /// </summary>
    public const int MaxSubscribersPerEvent = 49;

    [Range(1, MaxSubscribersPerEvent)]
    public int MaxSubscriptionsPerTag { get; set; } = 20;

    /// <summary>Subscriptions to any tag; with <see cref="MaxSubscriptionsPerTag"/> at most <see cref="MaxSubscribersPerEvent"/>.</summary>
    [Range(0, MaxSubscribersPerEvent - 1)]
    public int MaxAnyTagSubscriptions { get; set; } = 20;

    /// <summary>How long a dead letter is kept for an operator; the daily retention run removes older ones.</summary>
    [Range(1, 3650)]
    public int DeadLetterDays { get; set; } = 30;

    /// <summary>How long after a rotation the previous secret still signs (beside the new one), so receivers can switch over.</summary>
    public TimeSpan SecretRotationOverlap { get; set; } = TimeSpan.FromHours(24);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MaxSubscriptionsPerTag + MaxAnyTagSubscriptions > MaxSubscribersPerEvent)
        {
            yield return new ValidationResult(
                $"Callbacks:MaxSubscriptionsPerTag plus Callbacks:MaxAnyTagSubscriptions must be at most {MaxSubscribersPerEvent} (a change's deliveries, up to two events, share a transaction with the summary).",
                [nameof(MaxSubscriptionsPerTag), nameof(MaxAnyTagSubscriptions)]);
        }

        if (SecretRotationOverlap < TimeSpan.Zero || SecretRotationOverlap > TimeSpan.FromDays(30))
        {
            yield return new ValidationResult("Callbacks:SecretRotationOverlap must be between 00:00:00 and 30.00:00:00.", [nameof(SecretRotationOverlap)]);
        }
    }

    /// <summary>How long to wait before attempt <paramref name="attempt"/> + 1: doubling from the first delay, capped; about 8 hours over 12 attempts.</summary>
    public TimeSpan RetryDelay(int attempt)
    {
        var ticks = FirstRetryDelay.Ticks * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        return TimeSpan.FromTicks((long)Math.Min(ticks, MaxRetryDelay.Ticks));
    }
}
