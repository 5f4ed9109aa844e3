using System.Text.Json;
using System.Text.Json.Serialization;
using TagStatus.Core.Json;

namespace TagStatus.Core.Queues;

/// <summary>
/// Refresh one tag. <paramref name="DueAt"/> is the time in the key of the schedule row the timer claimed for it, so
/// the refresh can remove exactly that row when it is done. <paramref name="FollowUp"/> marks the next step of a big
/// tag's pass, which goes on whether or not the tag looks due (a lookup may have moved its next read meanwhile).
/// <paramref name="Requested"/> marks a refresh a lookup asked for (a tag too big to read inline): it has no schedule
/// row, goes on whether or not the tag is tracked or due, and <paramref name="DueAt"/> is when it was asked for.
/// <paramref name="HeldUntil"/> is the key time of the claimed row such a refresh holds in the schedule while it is queued
/// or its pass goes on (renewed each step, removed at the end), so the timer counts its pages in flight like its own.
/// </summary>
public sealed record RefreshMessage(string Tag, DateTimeOffset DueAt, bool FollowUp = false, bool Requested = false, DateTimeOffset? HeldUntil = null);

/// <summary>Deliver one outbox row (an event owed to one subscriber), kept in the tag's partition.</summary>
public sealed record DeliveryMessage(string Tag, string EventId, string SubscriptionId);

/// <summary>The JSON of queue messages. A message that does not parse is poison: it can never succeed.</summary>
public static class WorkMessages
{
    private static readonly JsonSerializerOptions Options = JsonDefaults.Create();

    public static string Serialize<T>(T message) => JsonSerializer.Serialize(message, Options);

    /// <exception cref="FormatException">The text is not a message of this kind.</exception>
    public static T Parse<T>(string text)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(text, Options) ?? throw new FormatException("The queue message is empty.");
        }
        catch (JsonException e)
        {
            throw new FormatException($"The queue message is not a {typeof(T).Name}.", e);
        }
    }
}
