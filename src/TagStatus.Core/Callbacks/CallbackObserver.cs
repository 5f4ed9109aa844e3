using TagStatus.Core.Domain;
using TagStatus.Core.Refresh;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Callbacks;

/// <summary>
/// Turns a tag's change into one outbox row per subscriber, stored with the summary in one transaction: a crash after
/// the change is recorded still delivers, and a change that was not recorded sends nothing. Subscribers are the tag's
/// own (its partition) and those of any tag (one partition): neither read grows with history.
/// </summary>
public sealed class CallbackObserver(ICallbackStore callbacks) : ITagChangeObserver
{
    public async ValueTask<IReadOnlyList<TagCompanionRow>> OnChangeAsync(TagSummary? previous, TagSummary current, CancellationToken cancellationToken)
    {
        var type = TagEvent.TypeFor(previous, current);
        if (type is null)
        {
            return [];
        }

        var own = await callbacks.GetSubscriptionsAsync(current.Tag, cancellationToken).ConfigureAwait(false);
        var anyTag = await callbacks.GetAnyTagSubscriptionsAsync(cancellationToken).ConfigureAwait(false);
        return Deliveries(current, type, current.RefreshedAt, [.. own, .. anyTag]);
    }

    /// <summary>One event, one outbox row per subscriber that wants it: the same id and bytes for all of them.</summary>
    public static IReadOnlyList<TagCompanionRow> Deliveries(TagSummary current, string type, DateTimeOffset occurredAt, IReadOnlyList<Subscription> subscriptions)
    {
        subscriptions = subscriptions.Where(s => s.Wants(type, current.Tag.Value)).ToList();
        if (subscriptions.Count == 0)
        {
            return [];
        }

        var counts = current.Counts;
        var tagEvent = new TagEvent(
            Guid.NewGuid().ToString("N"),
            type,
            current.Tag.Value,
            occurredAt,
            new TagEventData(current.State.ToApiName(), new TagEventCounts(counts.Total, counts.Delivered, counts.NotDelivered, counts.Waiting, counts.Unknown)));
        var body = tagEvent.ToUtf8Json();
        return subscriptions.Select(s => (TagCompanionRow)new CallbackDelivery(current.Tag.Value, tagEvent.Id, type, s, body, occurredAt)).ToList();
    }
}
