using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TagStatus.Core.Domain;
using TagStatus.Core.Operations;
using TagStatus.Core.Queues;
using TagStatus.Core.Secrets;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Callbacks;

/// <summary>What became of one delivery message.</summary>
public enum DeliveryOutcome
{
    /// <summary>The receiver answered 2xx: the row is gone.</summary>
    Delivered,

    /// <summary>The attempt failed; the row records it and a new message comes back after the back-off.</summary>
    Retried,

    /// <summary>The subscription ended (410 or unsubscribed): the row is gone.</summary>
    Dropped,

    /// <summary>The receiver refused the event itself (400, 413), or every attempt failed: moved to the dead letters for an operator to replay.</summary>
    DeadLettered,

    /// <summary>Nothing to do: the row is gone, another attempt holds it, or it is not due yet (re-queued for then).</summary>
    Skipped,
}

/// <summary>
/// Delivers one outbox row per queue message: at least once, the same id and bytes on every attempt, signed the
/// Standard Webhooks way with the subscription's secrets of the moment; claimed (ETag) before posting, so a duplicate
/// message never posts the same event at the same time; retried with exponential back-off through the message's
/// visibility delay (401 and 403 too: a receiver part-way through a secret rotation recovers); <c>410</c> ends the
/// subscription; <c>400/413</c>, and a delivery whose attempts ran out, go to the dead letters. The receiver's answer is judged by its status line alone.
/// </summary>
public sealed partial class CallbackDispatcher(
    HttpClient http,
    ICallbackStore store,
    IDeadLetterStore deadLetters,
    IWorkQueue queue,
    ISecretSource secrets,
    IOptions<CallbackOptions> options,
    TimeProvider time,
    ILogger<CallbackDispatcher> logger,
    TagStatusMetrics? metrics = null)
{
    /// <summary>The receiver refuses these bytes: sending them again would get the same answer.</summary>
    private static readonly HashSet<HttpStatusCode> DeadLettered = [HttpStatusCode.BadRequest, HttpStatusCode.RequestEntityTooLarge];

    /// <summary>How long past the attempt's timeout a claim lasts: after that, a crashed attempt's row can be taken again.</summary>
    private static readonly TimeSpan ClaimMargin = TimeSpan.FromSeconds(30);

    private readonly CallbackOptions _options = options.Value;

    /// <exception cref="StoreUnavailableException">Storage failed: the message should come back (the queue retries it).</exception>
    public async Task<DeliveryOutcome> DeliverAsync(DeliveryMessage message, CancellationToken cancellationToken)
    {
        // A host shutting down starts nothing: the message comes back to the next worker.
        cancellationToken.ThrowIfCancellationRequested();
        if (!Tag.TryParse(message.Tag, out var tag, out _))
        {
            return DeliveryOutcome.Skipped;
        }

        var delivery = await store.GetDeliveryAsync(tag, message.EventId, message.SubscriptionId, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        if (delivery is null)
        {
            return DeliveryOutcome.Skipped;
        }

        if (delivery.ClaimedUntil is { } claimedUntil && claimedUntil > now)
        {
            // Another attempt holds it. Look again when its claim ends, in case that attempt died with its worker.
            await queue.EnqueueDeliveryAsync(message, claimedUntil - now + TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            return DeliveryOutcome.Skipped;
        }

        if (delivery.NextAttemptAt > now + TimeSpan.FromSeconds(1))
        {
            // Early (a duplicate of a postponed message): come back when it is due.
            await queue.EnqueueDeliveryAsync(message, delivery.NextAttemptAt - now, cancellationToken).ConfigureAwait(false);
            return DeliveryOutcome.Skipped;
        }

        // The subscription as it is now: its secrets may have rotated since the event was written.
        var subscription = await store.GetSubscriptionAsync(delivery.AnyTag ? null : tag, delivery.SubscriptionId, cancellationToken).ConfigureAwait(false);
        if (subscription is null)
        {
            await store.RemoveDeliveryAsync(delivery, cancellationToken).ConfigureAwait(false);
            Log.SubscriptionGone(logger, delivery.EventId, delivery.SubscriptionId);
            return DeliveryOutcome.Dropped;
        }

        // The key before the claim: a slow vault must not eat into the claim, which has to outlast the post.
        var signingKey = await secrets.GetAsync(AppSecret.CallbackSigningKey, cancellationToken).ConfigureAwait(false);
        var claimed = await store.ClaimDeliveryAsync(delivery, time.GetUtcNow() + _options.Timeout + ClaimMargin, cancellationToken).ConfigureAwait(false);
        if (claimed is null)
        {
            return DeliveryOutcome.Skipped;
        }

        var secretsNow = subscription.Secrets.ValidAt(time.GetUtcNow()).Select(g => WebhookSignature.SecretOf(signingKey, subscription.Id, g));
        var status = await PostAsync(claimed, secretsNow, cancellationToken).ConfigureAwait(false);
        return await SettleAsync(claimed, message, status, cancellationToken).ConfigureAwait(false);
    }

    /// <returns>The receiver's status, or null when it could not be reached or did not answer in time.</returns>
    private async Task<HttpStatusCode?> PostAsync(PendingDelivery delivery, IEnumerable<string> webhookSecrets, CancellationToken cancellationToken)
    {
        try
        {
            // The timestamp is the attempt's: a receiver refuses one older than its tolerance, so a captured request cannot be replayed later.
            var timestamp = time.GetUtcNow();
            using var request = new HttpRequestMessage(HttpMethod.Post, delivery.CallbackUrl) { Content = new ByteArrayContent(delivery.Body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            request.Headers.Add(WebhookSignature.IdHeader, delivery.EventId);
            request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(delivery.EventId, timestamp, delivery.Body, webhookSecrets));

            using var attemptTimeout = new CancellationTokenSource(_options.Timeout, time);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, attemptTimeout.Token);
            // Headers only: a receiver's body (however large or slow) is never buffered.
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            return response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException || e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Log.AttemptFailed(logger, delivery.EventId, Describe(delivery.CallbackUrl), delivery.Attempts + 1, e.GetType().Name);
            return null;
        }
    }

    private async Task<DeliveryOutcome> SettleAsync(PendingDelivery delivery, DeliveryMessage message, HttpStatusCode? status, CancellationToken cancellationToken)
    {
        var target = Describe(delivery.CallbackUrl);
        if (status is { } code && (int)code is >= 200 and < 300)
        {
            await store.RemoveDeliveryAsync(delivery, cancellationToken).ConfigureAwait(false);
            Log.Delivered(logger, delivery.EventType, delivery.EventId, delivery.Tag, target, delivery.Attempts + 1);
            metrics?.RecordDelivery(DeliveryOutcome.Delivered);
            return DeliveryOutcome.Delivered;
        }

        if (status == HttpStatusCode.Gone)
        {
            // The receiver says the subscription is over: end it, and drop what it was owed.
            await store.RemoveSubscriptionAsync(delivery.AnyTag ? null : Tag.Parse(delivery.Tag), delivery.SubscriptionId, cancellationToken).ConfigureAwait(false);
            await store.RemoveDeliveryAsync(delivery, cancellationToken).ConfigureAwait(false);
            Log.Unsubscribed(logger, delivery.SubscriptionId, delivery.Tag);
            metrics?.RecordDelivery(DeliveryOutcome.Dropped, unsubscribed: true);
            return DeliveryOutcome.Dropped;
        }

        if (status is { } refused && DeadLettered.Contains(refused))
        {
            // The copy first: a crash between the two leaves the row to be tried again, never a lost event.
            await deadLetters.AddAsync(delivery, (int)refused, DeadLetterReasons.Refused, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            await store.RemoveDeliveryAsync(delivery, cancellationToken).ConfigureAwait(false);
            Log.DeadLettered(logger, delivery.EventId, target, (int)refused);
            metrics?.RecordDelivery(DeliveryOutcome.DeadLettered);
            return DeliveryOutcome.DeadLettered;
        }

        if (delivery.Attempts + 1 >= _options.MaxAttempts)
        {
            // Kept, not lost: an operator can replay it once the receiver is back (copy first, as above).
            await deadLetters.AddAsync(delivery, (int?)status, DeadLetterReasons.Exhausted, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            await store.RemoveDeliveryAsync(delivery, cancellationToken).ConfigureAwait(false);
            Log.GaveUp(logger, delivery.EventId, target, (int?)status ?? 0, delivery.Attempts + 1);
            metrics?.RecordDelivery(DeliveryOutcome.DeadLettered);
            return DeliveryOutcome.DeadLettered;
        }

        // The row first, then the message: a crash between them leaves a row the sweep finds, never a lost event.
        var delay = _options.RetryDelay(delivery.Attempts + 1);
        var next = time.GetUtcNow() + delay;
        if (await store.PostponeDeliveryAsync(delivery, next, cancellationToken).ConfigureAwait(false))
        {
            await queue.EnqueueDeliveryAsync(message, delay, cancellationToken).ConfigureAwait(false);
        }

        Log.Postponed(logger, delivery.EventId, target, (int?)status ?? 0, next);
        metrics?.RecordDelivery(DeliveryOutcome.Retried);
        return DeliveryOutcome.Retried;
    }

    /// <summary>Scheme, host and path only: callback URLs often carry a signature in their query (Logic Apps, Power Automate).</summary>
    internal static string Describe(Uri url) => url.GetLeftPart(UriPartial.Path);

    private static partial class Log
    {
        [LoggerMessage(5101, LogLevel.Information, "Delivered {EventType} {EventId} for tag {Tag} to {Target} on attempt {Attempt}")]
        public static partial void Delivered(ILogger logger, string eventType, string eventId, string tag, string target, int attempt);

        [LoggerMessage(5102, LogLevel.Warning, "Callback {EventId} to {Target} failed on attempt {Attempt} ({Failure})")]
        public static partial void AttemptFailed(ILogger logger, string eventId, string target, int attempt, string failure);

        [LoggerMessage(5103, LogLevel.Information, "Callback {EventId} to {Target} answered {Status}; next attempt at {NextAttemptAt}")]
        public static partial void Postponed(ILogger logger, string eventId, string target, int status, DateTimeOffset nextAttemptAt);

        [LoggerMessage(5104, LogLevel.Warning, "Callback {EventId} to {Target} gave up after {Attempts} attempts (last status {Status}): kept in the dead letters for replay")]
        public static partial void GaveUp(ILogger logger, string eventId, string target, int status, int attempts);

        [LoggerMessage(5105, LogLevel.Information, "Subscription {SubscriptionId} of tag {Tag} ended: the receiver answered 410 Gone")]
        public static partial void Unsubscribed(ILogger logger, string subscriptionId, string tag);

        [LoggerMessage(5106, LogLevel.Warning, "Callback {EventId} to {Target} refused with {Status}: kept in the dead letters for replay")]
        public static partial void DeadLettered(ILogger logger, string eventId, string target, int status);

        [LoggerMessage(5107, LogLevel.Information, "Callback {EventId} dropped: subscription {SubscriptionId} no longer exists")]
        public static partial void SubscriptionGone(ILogger logger, string eventId, string subscriptionId);

    }
}
