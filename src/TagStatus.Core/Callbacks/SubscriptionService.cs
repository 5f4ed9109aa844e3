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
        await TouchSummaryAsync(tag, cancellationToken).ConfigureAwait(false);
        return new SubscribeResult.Created(subscription);
    }

    public Task<bool> UnsubscribeAsync(Tag tag, string subscriptionId, CancellationToken cancellationToken) =>
        callbacks.RemoveSubscriptionAsync(tag, subscriptionId, cancellationToken);

    /// <summary>
    /// Rewrites the summary so its ETag moves: a refresh that read the subscriptions before this one was added then
    /// fails its conditional write and merges again, so the new subscriber cannot miss a change made meanwhile.
    /// </summary>
    private async Task TouchSummaryAsync(Tag tag, CancellationToken cancellationToken)
    {
        var stored = await store.GetSummaryAsync(tag, cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            return;
        }

        try
        {
            await store.SaveSummaryAsync(stored.Summary, stored.ETag, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreConflictException)
        {
            // Someone else moved the ETag already, which is all this wanted.
        }
    }
}
