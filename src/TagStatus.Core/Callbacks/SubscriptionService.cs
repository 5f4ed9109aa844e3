using TagStatus.Core.Domain;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using Microsoft.Extensions.Options;

namespace TagStatus.Core.Callbacks;

public abstract record SubscribeResult
{
    public sealed record Created(Subscription Subscription) : SubscribeResult;

    public sealed record Rejected(string Parameter, string Detail) : SubscribeResult;
}

/// <summary>Subscribing to a tag's changes (which also tracks it) and unsubscribing.</summary>
public sealed class SubscriptionService(
    ICallbackStore callbacks,
    ITagStore store,
    TrackingService tracking,
    CallbackUrlPolicy policy,
    IOptions<CallbackOptions> options,
    TimeProvider time)
{
    public async Task<SubscribeResult> SubscribeAsync(Tag tag, string? callbackUrl, CancellationToken cancellationToken)
    {
        var (url, error) = await policy.CheckAsync(callbackUrl, cancellationToken).ConfigureAwait(false);
        if (url is null)
        {
            return new SubscribeResult.Rejected("callbackUrl", error!);
        }

        var existing = await callbacks.GetSubscriptionsAsync(tag, cancellationToken).ConfigureAwait(false);
        if (existing.Count >= options.Value.MaxSubscriptionsPerTag)
        {
            return new SubscribeResult.Rejected("callbackUrl", $"A tag has at most {options.Value.MaxSubscriptionsPerTag} subscriptions (Callbacks:MaxSubscriptionsPerTag).");
        }

        await tracking.RegisterAsync(tag, cancellationToken).ConfigureAwait(false);
        var subscription = new Subscription(Guid.NewGuid().ToString("N"), tag.Value, url, time.GetUtcNow());
        await callbacks.AddSubscriptionAsync(subscription, cancellationToken).ConfigureAwait(false);
        await TouchSummaryAsync(tag, subscription, cancellationToken).ConfigureAwait(false);
        return new SubscribeResult.Created(subscription);
    }

    public Task<bool> UnsubscribeAsync(Tag tag, string subscriptionId, CancellationToken cancellationToken) =>
        callbacks.RemoveSubscriptionAsync(tag, subscriptionId, cancellationToken);

    /// <summary>
    /// Rewrites the summary so its ETag moves: a refresh that read the subscriptions before this one was added then
    /// fails its conditional write and merges again, so the new subscriber cannot miss a change made meanwhile. A tag
    /// already settled will not change again, so its final event is owed to the new subscriber at once, written in the
    /// same transaction: otherwise a workflow waiting on the webhook would wait forever.
    /// </summary>
    private async Task TouchSummaryAsync(Tag tag, Subscription subscription, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= 4; attempt++)
        {
            var stored = await store.GetSummaryAsync(tag, cancellationToken).ConfigureAwait(false);
            if (stored is null)
            {
                return;
            }

            var summary = stored.Summary;
            IReadOnlyList<TagCompanionRow> owed = summary.State switch
            {
                TagState.Complete => CallbackObserver.Deliveries(summary, TagEvent.Completed, summary.CompletedAt ?? summary.RefreshedAt, [subscription]),
                TagState.Expired => CallbackObserver.Deliveries(summary, TagEvent.Expired, summary.RefreshedAt, [subscription]),
                _ => [],
            };
            try
            {
                await store.SaveRefreshAsync([], summary, stored, owed, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (StoreConflictException)
            {
                // The tag changed meanwhile: look again, it may have just settled.
            }
        }
    }
}
