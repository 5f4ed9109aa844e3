using System.Text.Json;
using System.Text.Json.Serialization;
using TagStatus.Core.Domain;
using TagStatus.Core.Json;
using TagStatus.Core.Lookup;

namespace TagStatus.Api.Contracts;

public sealed record CountsDto(int Total, int Delivered, int NotDelivered, int Waiting, int Unknown)
{
    /// <summary>Recipients whose <c>stopSms</c> is true; left out for tags not read again since it was counted.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? OptedOut { get; init; }

    public static CountsDto From(TagCounts counts) =>
        new(counts.Total, counts.Delivered, counts.NotDelivered, counts.Waiting, counts.Unknown) { OptedOut = counts.OptedOut };
}

public sealed record RecipientDto(string PhoneNumber, string Status, bool StopSms, DateTimeOffset? StatusAt)
{
    public static RecipientDto From(Recipient recipient) =>
        new(recipient.PhoneNumber, recipient.Status.ToApiName(), recipient.StopSms, recipient.StatusAt);
}

/// <summary>A tag's summary: the body of the tracking routes and the head of <see cref="TagDetailResponse"/>.</summary>
public record TagResponse(
    string Tag,
    string State,
    bool Tracked,
    CountsDto Counts,
    double? DeliveryRate,
    DateTimeOffset FirstSeenAt,
    DateTimeOffset RefreshedAt,
    DateTimeOffset? CompletedAt,
    DateTimeOffset? NextRefreshAt,
    string Source,
    bool Stale,
    int? UpstreamTotal,
    bool Partial,
    string? PartialReason)
{
    public static TagResponse Summary(TagSummary summary, LookupSource source = LookupSource.Store, bool stale = false) => new(
        summary.Tag.Value,
        summary.State.ToApiName(),
        summary.Tracked,
        CountsDto.From(summary.Counts),
        summary.Counts.DeliveryRate,
        summary.FirstSeenAt,
        summary.RefreshedAt,
        summary.CompletedAt,
        summary.NextRefreshAt,
        source == LookupSource.Live ? "live" : "store",
        stale,
        summary.UpstreamTotal,
        summary.Partial,
        summary.PartialReason);
}

/// <summary>The body of <c>GET /api/tags/{tag}</c>: the summary, a page of recipients, and <c>nextLink</c>, written null on the last page as the contract shows.</summary>
public sealed record TagDetailResponse : TagResponse
{
    public TagDetailResponse(TagResponse summary, IReadOnlyList<RecipientDto> recipients, string? nextLink, bool refreshing = false)
        : base(summary)
    {
        Refreshing = refreshing;
        Recipients = recipients;
        NextLink = nextLink;
    }

    /// <summary>True when another request is reading the tag from SMS Partner (or its refresh is queued) and this answer is what is stored meanwhile.</summary>
    [JsonPropertyOrder(0)]
    public bool Refreshing { get; init; }

    [JsonPropertyOrder(1)]
    public IReadOnlyList<RecipientDto> Recipients { get; init; }

    [JsonPropertyOrder(2)]
    public string? NextLink { get; init; }
}

public sealed record TagListResponse(IReadOnlyList<TagResponse> Value, string? NextLink);

/// <summary>One page of a tag's recipients as a root <c>value</c> array, the shape connectors' paging merges.</summary>
public sealed record RecipientListResponse(IReadOnlyList<RecipientDto> Value, string? NextLink);

public sealed record RegisterTagRequest(string? Tag);

public sealed record SubscribeRequest(
    string? CallbackUrl,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Events = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TagPrefix = null);

/// <summary>A subscription as created; <c>tag</c> is null for one to any tag, <c>secret</c> (<c>whsec_…</c>) is shown here only.</summary>
public sealed record SubscriptionResponse(
    string Id,
    string? Tag,
    string CallbackUrl,
    IReadOnlyList<string> Events,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TagPrefix,
    DateTimeOffset CreatedAt,
    string Secret);

/// <summary>The answer to a rotation: the new secret, shown once.</summary>
public sealed record SecretResponse(string Secret, DateTimeOffset PreviousSecretValidUntil);

public sealed record DeadLetterDto(
    string Id, string Tag, string EventId, string EventType, string SubscriptionId, string CallbackTarget, int? Status, int Attempts, DateTimeOffset DeadLetteredAt,
    string Reason);

public sealed record DeadLetterListResponse(IReadOnlyList<DeadLetterDto> Value, string? ContinuationToken);

/// <summary>An RFC 9457 problem document, with SMS Partner's code when the error came from there.</summary>
public sealed record ProblemDocument(
    string Type,
    string Title,
    int Status,
    string Detail,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? UpstreamCode = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Parameter = null);

/// <summary>Messages waiting in one work queue (or its poison queue).</summary>
public sealed record QueueLengthDto(string Name, long Messages);

/// <summary>The body of <c>GET /api/health</c>: the numbers the dashboard charts, read now.</summary>
public sealed record HealthResponse(
    DateTimeOffset ObservedAt,
    int DueTags,
    bool DueTagsCapped,
    double OldestDueLatenessSeconds,
    IReadOnlyList<QueueLengthDto> Queues);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, Converters = [typeof(UtcSecondsConverter)])]
[JsonSerializable(typeof(TagResponse))]
[JsonSerializable(typeof(RecipientDto))]
[JsonSerializable(typeof(TagDetailResponse))]
[JsonSerializable(typeof(TagListResponse))]
[JsonSerializable(typeof(RecipientListResponse))]
[JsonSerializable(typeof(RegisterTagRequest))]
[JsonSerializable(typeof(SubscribeRequest))]
[JsonSerializable(typeof(SubscriptionResponse))]
[JsonSerializable(typeof(SecretResponse))]
[JsonSerializable(typeof(DeadLetterListResponse))]
[JsonSerializable(typeof(ProblemDocument))]
[JsonSerializable(typeof(HealthResponse))]
public sealed partial class ApiJsonContext : JsonSerializerContext
{
    /// <summary>The context every answer is written with (see <see cref="JsonDefaults"/>).</summary>
    public static ApiJsonContext Api { get; } = new(JsonDefaults.Create());
}
