using System.Text.Json;
using System.Text.Json.Serialization;
using TagStatus.Core.Domain;
using TagStatus.Core.Json;

namespace TagStatus.Core.Callbacks;

/// <summary>The JSON POSTed to a subscriber: <c>{ id, type, tag, occurredAt, data: { state, counts } }</c>.</summary>
public sealed record TagEvent(string Id, string Type, string Tag, DateTimeOffset OccurredAt, TagEventData Data)
{
    public const string Completed = "tag.completed";
    public const string Expired = "tag.expired";
    public const string Changed = "tag.changed";
    public const string Reopened = "tag.reopened";

    /// <summary>Every event type, in the order the API documents them.</summary>
    public static IReadOnlyList<string> Types { get; } = [Completed, Expired, Changed, Reopened];

    /// <summary>The event a change calls for, if any: settling, reopening (a settled tag read again found new messages), or counts moving while pending.</summary>
    public static string? TypeFor(TagSummary? previous, TagSummary current)
    {
        if (previous is null || previous.State == current.State && previous.Counts == current.Counts)
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

public sealed record TagEventData(string State, TagEventCounts Counts);

public sealed record TagEventCounts(int Total, int Delivered, int NotDelivered, int Waiting, int Unknown);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, Converters = [typeof(UtcSecondsConverter)])]
[JsonSerializable(typeof(TagEvent))]
internal sealed partial class TagEventJsonContext : JsonSerializerContext;
