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
/// </remarks>
public sealed class CallbackObserver(ICallbackStore callbacks) : ITagChangeObserver
{
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
        return
        [
            .. type is null ? [] : Deliveries(current, type, current.RefreshedAt, subscriptions),
            .. optedOut is null ? [] : Deliveries(current, TagEvent.OptedOut, current.RefreshedAt, subscriptions, optedOut),
        ];
    }

    /// <summary>One event, one outbox row per subscriber that wants it: the same id and bytes for all of them.</summary>
    public static IReadOnlyList<TagCompanionRow> Deliveries(TagSummary current, string type, DateTimeOffset occurredAt, IReadOnlyList<Subscription> subscriptions) =>
        Deliveries(current, type, occurredAt, subscriptions, new TagEventData(current.State.ToApiName(), CountsOf(current.Counts)));

    private static List<TagCompanionRow> Deliveries(TagSummary current, string type, DateTimeOffset occurredAt, IReadOnlyList<Subscription> subscriptions, TagEventData data)
    {
        subscriptions = subscriptions.Where(s => s.Wants(type, current.Tag.Value)).ToList();
        if (subscriptions.Count == 0)
        {
            return [];
        }

        var tagEvent = new TagEvent(Guid.NewGuid().ToString("N"), type, current.Tag.Value, occurredAt, data);
        var body = tagEvent.ToUtf8Json();
        return subscriptions.Select(s => (TagCompanionRow)new CallbackDelivery(current.Tag.Value, tagEvent.Id, type, s, body, occurredAt)).ToList();
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
}
