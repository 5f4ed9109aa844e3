using System.Text.Json;
using System.Text.Json.Serialization;
using TagStatus.Core.Domain;
using TagStatus.Core.Json;

namespace TagStatus.Core.Callbacks;

/// <summary>
/// The JSON POSTed to a subscriber: <c>{ id, type, tag, occurredAt, data: { state, counts } }</c>, and for
/// <see cref="OptedOut"/> <c>data.phoneNumbers</c> and <c>data.unlisted</c> too.
/// </summary>
public sealed record TagEvent(string Id, string Type, string Tag, DateTimeOffset OccurredAt, TagEventData Data)
{
    public const string Completed = "tag.completed";
    public const string Expired = "tag.expired";
    public const string Changed = "tag.changed";
    public const string Reopened = "tag.reopened";

    /// <summary>Recipients' <c>stopSms</c> turned true: one event per change of a tag, listing the numbers.</summary>
    public const string OptedOut = "recipient.optedOut";

    /// <summary>At most this many numbers in one <see cref="OptedOut"/> event (about 2 KB), the rest counted in <c>unlisted</c>.</summary>
    public const int MaxOptedOutNumbers = 100;

    /// <summary>Every event type, in the order the API documents them.</summary>
    public static IReadOnlyList<string> Types { get; } = [Completed, Expired, Changed, Reopened, OptedOut];

    /// <summary>
    /// The events of a tag's state: what a subscription that chose none gets (and rows stored before events could be
    /// chosen), so receivers written for them never see another payload unasked.
    /// </summary>
    public static IReadOnlyList<string> StateTypes { get; } = [Completed, Expired, Changed, Reopened];

    /// <summary>The event a change calls for, if any: settling, reopening (a settled tag read again found new messages), or counts moving while pending.</summary>
    public static string? TypeFor(TagSummary? previous, TagSummary current)
    {
        if (previous is null || previous.State == current.State && previous.Counts.SameStatusesAs(current.Counts))
        {
            return null;
        }

        return current.State switch
        {
            TagState.Complete when previous.State != TagState.Complete => Completed,
            TagState.Expired when previous.State != TagState.Expired => Expired,
            TagState.Pending when previous.State.IsSettled() => Reopened,
            TagState.Pending => Changed,
            _ => null,
        };
    }

    private static readonly TagEventJsonContext Json = new(JsonDefaults.Create());

    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, Json.TagEvent);
}

public sealed record TagEventData(string State, TagEventCounts Counts)
{
    /// <summary><see cref="TagEvent.OptedOut"/> only: the numbers that opted out, at most <see cref="TagEvent.MaxOptedOutNumbers"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? PhoneNumbers { get; init; }

    /// <summary>
    /// <see cref="TagEvent.OptedOut"/> only: opted-out recipients of this change that <see cref="PhoneNumbers"/> does not
    /// list (beyond the cap, or left by an interrupted save that cannot be told apart); read the tag's recipients for them.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Unlisted { get; init; }
}

public sealed record TagEventCounts(int Total, int Delivered, int NotDelivered, int Waiting, int Unknown)
{
    /// <summary>Recipients whose <c>stopSms</c> is true; left out for tags not read again since it was counted.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? OptedOut { get; init; }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, Converters = [typeof(UtcSecondsConverter)])]
[JsonSerializable(typeof(TagEvent))]
internal sealed partial class TagEventJsonContext : JsonSerializerContext;
