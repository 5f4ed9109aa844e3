using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TagStatus.Core.Domain;
using TagStatus.Core.Refresh;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Callbacks;

/// <summary>
/// Turns a tag's change into one outbox row per subscriber and event, stored with the summary in one transaction: a
/// crash after the change is recorded still delivers, and a change that was not recorded sends nothing. Subscribers
/// are the tag's own (its partition) and those of any tag (one partition): neither read grows with history.
/// </summary>
/// <remarks>
/// A change carries at most two events (one of the tag's state, one <see cref="TagEvent.OptedOut"/>), so with the
/// subscriber caps (<see cref="CallbackOptions"/>) its rows and the summary stay within one transaction's 100 actions.
/// Subscriptions stored under caps since lowered can be more than fit: then the events share the room (each at least
/// half when both need more) and go to as many as fit (the tag's own first, then any tag's, oldest first); the rest are
/// logged. The change is still stored: a transaction over 100 actions would fail every refresh of the tag, leaving its
/// statuses and all its subscribers behind.
/// </remarks>
public sealed partial class CallbackObserver(ICallbackStore callbacks, ILogger<CallbackObserver>? logger = null) : ITagChangeObserver
{
    /// <summary>Delivery rows a change may carry: with the summary and the range layout row, a transaction's 100 actions.</summary>
    public const int MaxDeliveryRows = 2 * CallbackOptions.MaxSubscribersPerEvent;

    private readonly ILogger _logger = logger ?? NullLogger<CallbackObserver>.Instance;

    public async ValueTask<IReadOnlyList<TagCompanionRow>> OnChangeAsync(TagSummary? previous, TagSummary current, OptOutChanges optOuts, CancellationToken cancellationToken)
    {
        var type = TagEvent.TypeFor(previous, current);
        var optedOut = OptedOutData(previous, current, optOuts);
        if (type is null && optedOut is null)
        {
            return [];
        }

        var own = await callbacks.GetSubscriptionsAsync(current.Tag, cancellationToken).ConfigureAwait(false);
        var anyTag = await callbacks.GetAnyTagSubscriptionsAsync(cancellationToken).ConfigureAwait(false);
        List<Subscription> subscriptions = [.. own, .. anyTag];
        var stateRows = type is null ? [] : Deliveries(current, type, current.RefreshedAt, subscriptions, StateData(current));
        var optOutRows = optedOut is null ? [] : Deliveries(current, TagEvent.OptedOut, current.RefreshedAt, subscriptions, optedOut);
        // The state event takes what the opt-out event leaves, and at least half when both want more than fits.
        var stateRoom = Math.Max(MaxDeliveryRows - optOutRows.Count, MaxDeliveryRows / 2);
        var stateKept = WithinRoom(stateRows, stateRoom);
        return [.. stateKept, .. WithinRoom(optOutRows, MaxDeliveryRows - stateKept.Count)];
    }

    /// <summary>An event's rows, cut to <paramref name="room"/>: the tag's own subscriptions first, then any tag's, oldest first.</summary>
    private List<CallbackDelivery> WithinRoom(List<CallbackDelivery> deliveries, int room)
    {
        if (deliveries.Count <= room)
        {
            return deliveries;
        }

        var ordered = deliveries.OrderBy(d => d.Subscription.Tag is null ? 1 : 0).ThenBy(d => d.Subscription.CreatedAt).ToList();
        var left = ordered.Skip(room).Select(d => d.Subscription.Id).ToList();
        const int Named = 20; // one bounded line, repeated on each change of the tag
        Log.SubscribersOverRoom(_logger, ordered[0].Tag, ordered[0].EventType, ordered[0].EventId, deliveries.Count, room, left.Count,
            string.Join(", ", left.Take(Named)) + (left.Count > Named ? ", ..." : string.Empty));
        return ordered.Take(room).ToList();
    }

    /// <summary>One event, one outbox row per subscriber that wants it: the same id and bytes for all of them.</summary>
    public static IReadOnlyList<TagCompanionRow> Deliveries(TagSummary current, string type, DateTimeOffset occurredAt, IReadOnlyList<Subscription> subscriptions) =>
        [.. Deliveries(current, type, occurredAt, subscriptions, StateData(current))];

    private static TagEventData StateData(TagSummary current) => new(current.State.ToApiName(), CountsOf(current.Counts));

    private static List<CallbackDelivery> Deliveries(TagSummary current, string type, DateTimeOffset occurredAt, IReadOnlyList<Subscription> subscriptions, TagEventData data)
    {
        subscriptions = subscriptions.Where(s => s.Wants(type, current.Tag.Value)).ToList();
        if (subscriptions.Count == 0)
        {
            return [];
        }

        var tagEvent = new TagEvent(Guid.NewGuid().ToString("N"), type, current.Tag.Value, occurredAt, data);
        var body = tagEvent.ToUtf8Json();
        return subscriptions.Select(s => new CallbackDelivery(current.Tag.Value, tagEvent.Id, type, s, body, occurredAt)).ToList();
    }

    /// <summary>
    /// The <see cref="TagEvent.OptedOut"/> payload, or null when nothing opted out. Never on a tag's first read: every
    /// number is new then, and <c>counts.optedOut</c> says how many had already opted out.
    /// </summary>
    private static TagEventData? OptedOutData(TagSummary? previous, TagSummary current, OptOutChanges optOuts)
    {
        if (previous is null)
        {
            return null;
        }

        var listed = optOuts.Numbers.Take(TagEvent.MaxOptedOutNumbers).ToList();
        var unlisted = optOuts.Numbers.Count - listed.Count + optOuts.UnreportedSince(previous.Counts);
        return listed.Count == 0 && unlisted == 0
            ? null
            : new TagEventData(current.State.ToApiName(), CountsOf(current.Counts)) { PhoneNumbers = listed, Unlisted = unlisted };
    }

    private static TagEventCounts CountsOf(TagCounts counts) =>
        new(counts.Total, counts.Delivered, counts.NotDelivered, counts.Waiting, counts.Unknown) { OptedOut = counts.OptedOut };

    private static partial class Log
    {
        [LoggerMessage(5108, LogLevel.Warning, "Tag {Tag}: {EventType} {EventId} has {Wanted} subscribers, more than the {Room} this change can carry (subscriptions stored under caps since lowered); not sent to {LeftCount}: {Left}")]
        public static partial void SubscribersOverRoom(ILogger logger, string tag, string eventType, string eventId, int wanted, int room, int leftCount, string left);
    }
}
