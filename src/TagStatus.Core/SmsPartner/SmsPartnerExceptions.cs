namespace TagStatus.Core.SmsPartner;

/// <summary>SMS Partner could not give the statuses. Messages never hold the API key.</summary>
public abstract class SmsPartnerException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>SMS Partner answered <c>success:false</c> with one of its codes (1 key required, 4 not found, 10 invalid key…).</summary>
public sealed class SmsPartnerRefusedException(int code, string? upstreamMessage)
    : SmsPartnerException($"SMS Partner refused the call with code {code}{(string.IsNullOrWhiteSpace(upstreamMessage) ? "" : $" ({upstreamMessage})")}.")
{
    public const int ApiKeyRequired = 1;
    public const int MessageNotFound = 4;
    public const int InvalidApiKey = 10;

    public int Code { get; } = code;

    public bool IsNotFound => Code == MessageNotFound;

    public bool IsKeyRefused => Code is InvalidApiKey or ApiKeyRequired;
}

/// <summary>SMS Partner answered something that is not its documented JSON: XML, HTML, a truncated or malformed body.</summary>
public sealed class SmsPartnerBadAnswerException(string message, Exception? inner = null) : SmsPartnerException(message, inner);

/// <summary>SMS Partner could not be reached, kept failing (5xx, 429) or timed out, after the retries.</summary>
public sealed class SmsPartnerUnavailableException(string message, TimeSpan? retryAfter = null, Exception? inner = null)
    : SmsPartnerException(message, inner)
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
