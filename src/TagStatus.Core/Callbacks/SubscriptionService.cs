using TagStatus.Core.Domain;
using TagStatus.Core.Secrets;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using Microsoft.Extensions.Options;

namespace TagStatus.Core.Callbacks;

public abstract record SubscribeResult
{
    /// <param name="Secret">The <c>whsec_…</c> secret, handed out here and on rotation only.</param>
    public sealed record Created(Subscription Subscription, string Secret) : SubscribeResult;

    public sealed record Rejected(string Parameter, string Detail) : SubscribeResult;
}

/// <summary>A rotation's new <c>whsec_…</c> secret, and until when the previous one still signs beside it.</summary>
public sealed record RotatedSecret(string Secret, DateTimeOffset PreviousValidUntil);

/// <summary>What a subscriber asks for: where, which events (the tag's state events when null), and for any tag which tags (by prefix).</summary>
public sealed record SubscriptionRequest(string? CallbackUrl, IReadOnlyList<string>? Events = null, string? TagPrefix = null);

/// <summary>Subscribing to one tag's changes (which also tracks it) or to any tag's, rotating a secret, unsubscribing.</summary>
public sealed class SubscriptionService(
    ICallbackStore callbacks,
    ITagStore store,
    TrackingService tracking,
    CallbackUrlPolicy policy,
    ISecretSource secrets,
    IOptions<CallbackOptions> options,
    TimeProvider time)
{
    /// <param name="tag">The tag, or null for a subscription to any tag.</param>
    public async Task<SubscribeResult> SubscribeAsync(Tag? tag, SubscriptionRequest request, CancellationToken cancellationToken)
    {
        var events = request.Events ?? TagEvent.StateTypes;
        if (events.Count == 0 || events.Any(e => !TagEvent.Types.Contains(e, StringComparer.Ordinal)))
        {
            return new SubscribeResult.Rejected("events", $"events lists one or more of {string.Join(", ", TagEvent.Types)}.");
        }

        if (request.TagPrefix is not null && (tag is not null || request.TagPrefix.Length is 0 or > Tag.MaxLength))
        {
            return new SubscribeResult.Rejected("tagPrefix", tag is null
                ? $"tagPrefix is 1 to {Tag.MaxLength} characters, or left out for every tag."
                : "tagPrefix is for subscriptions to any tag (POST /api/subscriptions).");
        }

        var (url, error) = await policy.CheckAsync(request.CallbackUrl, cancellationToken).ConfigureAwait(false);
        if (url is null)
        {
            return new SubscribeResult.Rejected("callbackUrl", error!);
        }

        var (existing, cap, setting) = tag is { } one
            ? (await callbacks.GetSubscriptionsAsync(one, cancellationToken).ConfigureAwait(false), options.Value.MaxSubscriptionsPerTag, "MaxSubscriptionsPerTag")
            : (await callbacks.GetAnyTagSubscriptionsAsync(cancellationToken).ConfigureAwait(false), options.Value.MaxAnyTagSubscriptions, "MaxAnyTagSubscriptions");
        if (existing.Count >= cap)
        {
            return new SubscribeResult.Rejected("callbackUrl", $"At most {cap} such subscriptions (Callbacks:{setting}).");
        }

        // The key before anything is written: a vault out of reach leaves no subscription whose secret nobody has.
        var signingKey = await secrets.GetAsync(AppSecret.CallbackSigningKey, cancellationToken).ConfigureAwait(false);
        if (tag is { } tracked)
        {
            await tracking.RegisterAsync(tracked, cancellationToken).ConfigureAwait(false);
        }

        var subscription = new Subscription(Guid.NewGuid().ToString("N"), tag?.Value, url, time.GetUtcNow())
        {
            Events = events.Distinct(StringComparer.Ordinal).ToList(),
            TagPrefix = request.TagPrefix,
        };
        await callbacks.AddSubscriptionAsync(subscription, cancellationToken).ConfigureAwait(false);
        if (tag is { } own)
        {
            await TouchSummaryAsync(own, subscription, cancellationToken).ConfigureAwait(false);
        }

        return new SubscribeResult.Created(subscription, WebhookSignature.SecretOf(signingKey, subscription.Id, subscription.Secrets.Current));
    }

    /// <summary>
    /// A new secret, returned once. Events keep carrying a signature with the previous secret too until
    /// <see cref="CallbackOptions.SecretRotationOverlap"/> has passed, so a receiver can switch without losing any.
    /// </summary>
    /// <returns>The new secret, or null when there is no such subscription.</returns>
    /// <exception cref="StoreConflictException">The subscription was rotated by someone else at the same moment.</exception>
    public async Task<RotatedSecret?> RotateSecretAsync(Tag? tag, string subscriptionId, CancellationToken cancellationToken)
    {
        var subscription = await callbacks.GetSubscriptionAsync(tag, subscriptionId, cancellationToken).ConfigureAwait(false);
        if (subscription is null)
        {
            return null;
        }

        var signingKey = await secrets.GetAsync(AppSecret.CallbackSigningKey, cancellationToken).ConfigureAwait(false);
        var previousValidUntil = time.GetUtcNow() + options.Value.SecretRotationOverlap;
        var rotated = subscription.Secrets.Rotate(previousValidUntil);
        if (!await callbacks.ReplaceSecretsAsync(subscription, rotated, cancellationToken).ConfigureAwait(false))
        {
            // Gone meanwhile, or rotated twice at once: only one caller may hold the new secret.
            throw new StoreConflictException($"Subscription {subscriptionId} changed while its secret was rotated.");
        }

        return new RotatedSecret(WebhookSignature.SecretOf(signingKey, subscription.Id, rotated.Current), previousValidUntil);
    }

    /// <summary>Idempotent: ending a subscription that is already gone (or never was) is not an error.</summary>
    /// <returns>Whether it existed.</returns>
    public Task<bool> UnsubscribeAsync(Tag? tag, string subscriptionId, CancellationToken cancellationToken) =>
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
