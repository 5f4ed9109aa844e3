using System.Text.Json.Serialization;

namespace SmsPartner.Simulator;

/// <summary>What a queued fault does to one call of the status endpoint.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FaultKind>))]
public enum FaultKind
{
    /// <summary>HTTP <see cref="FaultSpec.HttpStatus"/> (500 by default) with a small JSON body.</summary>
    ServerError,

    /// <summary>HTTP 429 with <c>Retry-After: RetryAfterSeconds</c> (header omitted when null).</summary>
    TooManyRequests,

    /// <summary>Waits <see cref="FaultSpec.DelayMs"/> then answers normally (the wait ends if the caller gives up).</summary>
    Slow,

    /// <summary>HTTP 200, <c>application/json</c>, a body that is not valid JSON.</summary>
    MalformedJson,

    /// <summary>Announces the full Content-Length, sends half the normal body, then drops the connection.</summary>
    Truncated,

    /// <summary>HTTP 200 with an HTML maintenance page (<c>text/html</c>).</summary>
    NonJson,

    /// <summary>The documented failure envelope with <see cref="FaultSpec.Code"/> (HTTP per the failure mode, or <see cref="FaultSpec.HttpStatus"/>).</summary>
    Failure,

    /// <summary>Drops the connection before any answer: the caller sees it closed with no status line.</summary>
    Dropped,
}

/// <summary>A fault for the next <see cref="Count"/> calls of the status endpoint (body of <c>POST /_admin/faults</c>).</summary>
public sealed class FaultSpec
{
    [JsonRequired]
    public FaultKind Kind { get; set; }

    public int Count { get; set; } = 1;

    public int? RetryAfterSeconds { get; set; } = 1;

    public int DelayMs { get; set; } = 2000;

    /// <summary>Envelope code for <see cref="FaultKind.Failure"/> (1, 3, 4, 10 have documented messages).</summary>
    public int Code { get; set; } = 10;

    /// <summary>Overrides the HTTP status of <see cref="FaultKind.ServerError"/> and <see cref="FaultKind.Failure"/>.</summary>
    public int? HttpStatus { get; set; }

    /// <summary>Only calls for this tag consume the fault; any call when null.</summary>
    public string? Tag { get; set; }

    /// <summary>Only calls for this page (as the caller asked for it, 1 when absent) consume the fault; any page when null.</summary>
    public int? Page { get; set; }

    internal void Validate()
    {
        if (!Enum.IsDefined(Kind))
        {
            throw new ArgumentException("kind must be one of ServerError, TooManyRequests, Slow, MalformedJson, Truncated, NonJson, Failure, Dropped.");
        }

        if (Count < 1)
        {
            throw new ArgumentException("count must be at least 1.");
        }

        if (DelayMs < 0)
        {
            throw new ArgumentException("delayMs must not be negative.");
        }

        if (RetryAfterSeconds < 0)
        {
            throw new ArgumentException("retryAfterSeconds must not be negative.");
        }

        if (Page < 1)
        {
            throw new ArgumentException("page must be at least 1.");
        }

        if (HttpStatus is < 100 or > 599)
        {
            throw new ArgumentException("httpStatus must be between 100 and 599.");
        }
    }
}

/// <summary>A queued fault and how many calls it still applies to.</summary>
public sealed record PendingFault(FaultKind Kind, int Remaining, string? Tag);
