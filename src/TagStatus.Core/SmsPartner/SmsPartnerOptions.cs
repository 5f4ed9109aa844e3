using System.ComponentModel.DataAnnotations;

namespace TagStatus.Core.SmsPartner;

/// <summary>How to reach SMS Partner. Section <c>SmsPartner</c>; the API key itself comes from <see cref="Secrets.ISecretSource"/>.</summary>
public sealed class SmsPartnerOptions : IValidatableObject
{
    public const string SectionName = "SmsPartner";

    /// <summary>The API root, ending with a slash.</summary>
    [Required]
    public Uri BaseUrl { get; set; } = new("https://api.smspartner.fr/v1/");

    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>Calls per second allowed per API key: SMS Partner publishes no limit, so stay polite.</summary>
    [Range(1, 1000)]
    public int RequestsPerSecond { get; set; } = 5;

    /// <summary>
    /// Call slots an instance reserves from the shared budget per Table Storage write, each 1/RequestsPerSecond apart.
    /// The bucket itself holds at most one token, and a slot unused 300 ms after its time is dropped
    /// (<see cref="Budget.BudgetRules.HoldTime"/>, docs/settings.md).
    /// </summary>
    [Range(1, 1000, ErrorMessage = "SmsPartner:BudgetBatchSize must be between 1 and 1000.")]
    public int BudgetBatchSize { get; set; } = 2;

    /// <summary>Retries of one call on 5xx, 408, 429 and timeouts.</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 3;

    /// <summary>First retry delay; later ones grow exponentially, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Safety stop for paging: no tag is worth more pages than this.</summary>
    [Range(1, 100_000)]
    public int MaxPages { get; set; } = 10_000;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!BaseUrl.IsAbsoluteUri || BaseUrl.Scheme is not ("https" or "http"))
        {
            yield return new ValidationResult("SmsPartner:BaseUrl must be an absolute http(s) URL.", [nameof(BaseUrl)]);
        }
        else if (!BaseUrl.AbsolutePath.EndsWith('/'))
        {
            yield return new ValidationResult("SmsPartner:BaseUrl must end with '/', for example https://api.smspartner.fr/v1/.", [nameof(BaseUrl)]);
        }

        if (AttemptTimeout <= TimeSpan.Zero || TotalTimeout <= AttemptTimeout)
        {
            yield return new ValidationResult("SmsPartner:TotalTimeout must be longer than SmsPartner:AttemptTimeout, and both positive.", [nameof(TotalTimeout)]);
        }

        if (BudgetBatchSize > RequestsPerSecond)
        {
            // Capacity plus what a held batch can add must stay within one second of calls (see BudgetRules).
            yield return new ValidationResult(
                $"SmsPartner:BudgetBatchSize ({BudgetBatchSize}) must not exceed SmsPartner:RequestsPerSecond ({RequestsPerSecond}).",
                [nameof(BudgetBatchSize)]);
        }
    }
}
