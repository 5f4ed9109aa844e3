using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TagStatus.Core.Domain;
using TagStatus.Core.Secrets;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Callbacks;

/// <summary>What one outbox pass did.</summary>
public sealed record DeliveryReport(int Delivered, int Retried, int Dropped, int Failed);

/// <summary>
/// Delivers the outbox: at least once, the same id and bytes on every attempt, signed; retried with exponential
/// back-off over hours; <c>410</c> ends the subscription; <c>400/401/403/413</c> are not retried.
/// </summary>
public sealed partial class CallbackDispatcher(
    HttpClient http,
    ICallbackStore store,
    ISecretSource secrets,
    IOptions<CallbackOptions> options,
    TimeProvider time,
    ILogger<CallbackDispatcher> logger)
{
    private static readonly HashSet<HttpStatusCode> NotRetried =
        [HttpStatusCode.BadRequest, HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden, HttpStatusCode.RequestEntityTooLarge];

    private readonly CallbackOptions _options = options.Value;

    public async Task<DeliveryReport> DeliverDueAsync(CancellationToken cancellationToken)
    {
        var due = await store.GetDueDeliveriesAsync(time.GetUtcNow(), 500, cancellationToken).ConfigureAwait(false);
        if (due.Count == 0)
        {
            return new DeliveryReport(0, 0, 0, 0);
        }

        var signingKey = await secrets.GetAsync(AppSecret.CallbackSigningKey, cancellationToken).ConfigureAwait(false);
        int delivered = 0, retried = 0, dropped = 0, failed = 0;
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = _options.MaxParallelDeliveries, CancellationToken = cancellationToken }, async (delivery, ct) =>
        {
            switch (await DeliverAsync(delivery, signingKey, ct).ConfigureAwait(false))
            {
                case Outcome.Delivered: Interlocked.Increment(ref delivered); break;
                case Outcome.Retried: Interlocked.Increment(ref retried); break;
                case Outcome.Dropped: Interlocked.Increment(ref dropped); break;
                default: Interlocked.Increment(ref failed); break;
            }
        }).ConfigureAwait(false);

        return new DeliveryReport(delivered, retried, dropped, failed);
    }

    private enum Outcome { Delivered, Retried, Dropped, Failed }

    private async Task<Outcome> DeliverAsync(PendingDelivery delivery, string signingKey, CancellationToken cancellationToken)
    {
        var target = Describe(delivery.CallbackUrl);
        HttpStatusCode? status = null;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, delivery.CallbackUrl) { Content = new ByteArrayContent(delivery.Body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            request.Headers.Add(CallbackSignature.EventIdHeader, delivery.EventId);
            request.Headers.Add(CallbackSignature.SignatureHeader, CallbackSignature.Sign(delivery.Body, signingKey));

            using var attemptTimeout = new CancellationTokenSource(_options.Timeout, time);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, attemptTimeout.Token);
            using var response = await http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            status = response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException || e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Log.AttemptFailed(logger, delivery.EventId, target, delivery.Attempts + 1, e.GetType().Name);
        }

        try
        {
            if (status is { } code && (int)code is >= 200 and < 300)
            {
                await store.RemoveDeliveryAsync(delivery, cancellationToken).ConfigureAwait(false);
                Log.Delivered(logger, delivery.EventType, delivery.EventId, delivery.Tag, target, delivery.Attempts + 1);
                return Outcome.Delivered;
            }

            if (status == HttpStatusCode.Gone)
            {
                // The receiver says the subscription is over: end it, and drop what it was owed.
                await store.RemoveSubscriptionAsync(Tag.Parse(delivery.Tag), delivery.SubscriptionId, cancellationToken).ConfigureAwait(false);
                await store.RemoveDeliveryAsync(delivery, cancellationToken).ConfigureAwait(false);
                Log.Unsubscribed(logger, delivery.SubscriptionId, delivery.Tag);
                return Outcome.Dropped;
            }

            if (status is { } refused && NotRetried.Contains(refused) || delivery.Attempts + 1 >= _options.MaxAttempts)
            {
                await store.RemoveDeliveryAsync(delivery, cancellationToken).ConfigureAwait(false);
                Log.GaveUp(logger, delivery.EventId, target, (int?)status ?? 0, delivery.Attempts + 1);
                return Outcome.Dropped;
            }

            var next = time.GetUtcNow() + _options.RetryDelay(delivery.Attempts + 1);
            await store.PostponeDeliveryAsync(delivery, next, cancellationToken).ConfigureAwait(false);
            Log.Postponed(logger, delivery.EventId, target, (int?)status ?? 0, next);
            return Outcome.Retried;
        }
        catch (StoreUnavailableException e)
        {
            // The row stays due, so the next run tries again: at least once, never lost.
            Log.OutboxWriteFailed(logger, delivery.EventId, e);
            return Outcome.Failed;
        }
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

        [LoggerMessage(5104, LogLevel.Warning, "Callback {EventId} to {Target} dropped after {Attempts} attempts (last status {Status})")]
        public static partial void GaveUp(ILogger logger, string eventId, string target, int status, int attempts);

        [LoggerMessage(5105, LogLevel.Information, "Subscription {SubscriptionId} of tag {Tag} ended: the receiver answered 410 Gone")]
        public static partial void Unsubscribed(ILogger logger, string subscriptionId, string tag);

        [LoggerMessage(5106, LogLevel.Warning, "The outbox row of callback {EventId} could not be updated; it stays due")]
        public static partial void OutboxWriteFailed(ILogger logger, string eventId, Exception exception);
    }
}
