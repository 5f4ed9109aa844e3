using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Azure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using TagStatus.Core.Queues;
using TagStatus.Core.Secrets;
using TagStatus.Core.Storage;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;
using TagStatus.Tests.Support;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Callbacks;

/// <summary>A callback receiver at the HttpMessageHandler level: records every POST and answers from a script.</summary>
internal sealed class CallbackReceiver(Func<HttpRequestMessage, int, HttpResponseMessage> respond) : HttpMessageHandler
{
    private int _calls;

    public sealed record Received(Uri Uri, string? EventId, string? Timestamp, string? Signature, string? ContentType, byte[] Body)
    {
        /// <summary>The headers as a receiver on ASP.NET Core sees them, for <see cref="StandardWebhook.Verify"/>.</summary>
        public HeaderDictionary Headers => new()
        {
            ["webhook-id"] = EventId,
            ["webhook-timestamp"] = Timestamp,
            ["webhook-signature"] = Signature,
        };
    }

    public ConcurrentQueue<Received> Requests { get; } = new();

    public static CallbackReceiver Answering(HttpStatusCode status) => new((_, _) => new HttpResponseMessage(status));

    public static CallbackReceiver Throwing(Exception e) => new((_, _) => throw e);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        Requests.Enqueue(new Received(
            request.RequestUri!,
            request.Headers.TryGetValues("webhook-id", out var ids) ? ids.Single() : null,
            request.Headers.TryGetValues("webhook-timestamp", out var timestamps) ? timestamps.Single() : null,
            request.Headers.TryGetValues("webhook-signature", out var signatures) ? signatures.Single() : null,
            request.Content?.Headers.ContentType?.ToString(),
            body));
        var response = respond(request, Interlocked.Increment(ref _calls) - 1);
        response.RequestMessage = request;
        return response;
    }
}

public sealed class CallbackDispatcherTests
{
    private const string SigningKey = "callback-signing-key";
    private const string SubscriptionId = "5ub5000000000000000000000000000a";
    private const string SecretQuery = "sig=very-secret-signature";

    private readonly FakeTimeProvider _time = new(T0.AddHours(1));
    private readonly Mock<ICallbackStore> _store = new();
    private readonly Mock<IDeadLetterStore> _deadLetters = new();
    private readonly Mock<ISecretSource> _secrets = new();
    private readonly FakeLogger<CallbackDispatcher> _logger = new();
    private readonly CallbackOptions _options = new();
    private readonly List<PendingDelivery> _removed = [];
    private readonly List<(PendingDelivery Delivery, DateTimeOffset Next)> _postponed = [];
    private readonly List<(DeliveryMessage Message, TimeSpan Delay)> _queued = [];
    private readonly Mock<IWorkQueue> _queue = new();
    private readonly TestMeters _metrics = new();
    private PendingDelivery? _due;

    public CallbackDispatcherTests()
    {
        _secrets.Setup(s => s.GetAsync(AppSecret.CallbackSigningKey, It.IsAny<CancellationToken>())).ReturnsAsync(SigningKey);
        _store.Setup(s => s.RemoveDeliveryAsync(It.IsAny<PendingDelivery>(), It.IsAny<CancellationToken>()))
            .Callback((PendingDelivery d, CancellationToken _) => { lock (_removed) { _removed.Add(d); } })
            .ReturnsAsync(true);
        _store.Setup(s => s.PostponeDeliveryAsync(It.IsAny<PendingDelivery>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()))
            .Callback((PendingDelivery d, DateTimeOffset next, CancellationToken _) => { lock (_postponed) { _postponed.Add((d, next)); } })
            .ReturnsAsync(true);
        _store.Setup(s => s.RemoveSubscriptionAsync(It.IsAny<Tag?>(), It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync(true);
        Subscribed(SecretGenerations.First);
        _store.Setup(s => s.ClaimDeliveryAsync(It.IsAny<PendingDelivery>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((PendingDelivery d, DateTimeOffset _, CancellationToken _) => d);
        _queue.Setup(q => q.EnqueueDeliveryAsync(It.IsAny<DeliveryMessage>(), It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>()))
            .Callback((DeliveryMessage m, TimeSpan delay, CancellationToken _) => _queued.Add((m, delay)))
            .Returns(Task.CompletedTask);
    }

    /// <summary>The subscription of the deliveries, as storage has it now.</summary>
    private void Subscribed(SecretGenerations secrets) =>
        _store.Setup(s => s.GetSubscriptionAsync(It.IsAny<Tag?>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((Tag? tag, string id, CancellationToken _) => new Subscription(id, tag?.Value, new Uri("https://hooks.example.com/"), T0) { Secrets = secrets });

    private static string SecretOf(int generation, string subscriptionId = SubscriptionId) => WebhookSignature.SecretOf(SigningKey, subscriptionId, generation);

    private static PendingDelivery Delivery(int attempts = 0, string eventId = "6f1c0000000000000000000000000001", string subscriptionId = SubscriptionId) =>
        new("montag", eventId, TagEvent.Completed, subscriptionId,
            new Uri($"https://hooks.example.com/workflows/run?api-version=1&{SecretQuery}"),
            Encoding.UTF8.GetBytes($$"""{"id":"{{eventId}}","type":"tag.completed","tag":"montag"}"""),
            attempts, T0, ClaimedUntil: null, new ETag("delivery-etag"));

    /// <summary>The outbox row the next message points at, as storage has it.</summary>
    private void Due(PendingDelivery delivery)
    {
        _due = delivery;
        _store.Setup(s => s.GetDeliveryAsync(Tag.Parse(delivery.Tag), delivery.EventId, delivery.SubscriptionId, It.IsAny<CancellationToken>())).ReturnsAsync(delivery);
    }

    private static DeliveryMessage MessageFor(PendingDelivery delivery) => new(delivery.Tag, delivery.EventId, delivery.SubscriptionId);

    private Task<DeliveryOutcome> DeliverAsync(CallbackDispatcher dispatcher, CancellationToken cancellationToken) =>
        dispatcher.DeliverAsync(MessageFor(_due!), cancellationToken);

    private CallbackDispatcher Dispatcher(HttpMessageHandler receiver) =>
        new(new HttpClient(receiver), _store.Object, _deadLetters.Object, _queue.Object, _secrets.Object, Options.Create(_options), _time, _logger, _metrics.Metrics);

    private void AssertNothingLoggedCarriesTheQuery()
    {
        var records = _logger.Collector.GetSnapshot();
        Assert.NotEmpty(records);
        foreach (var record in records)
        {
            Assert.DoesNotContain(SecretQuery, record.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("very-secret", record.Exception?.ToString() ?? string.Empty, StringComparison.Ordinal);
            foreach (var (_, value) in record.StructuredState ?? [])
            {
                Assert.DoesNotContain("very-secret", value ?? string.Empty, StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [InlineData(HttpStatusCode.OK)]
    [InlineData(HttpStatusCode.Accepted)]
    [InlineData(HttpStatusCode.NoContent)]
    public async Task A_2xx_answer_removes_the_delivery(HttpStatusCode status)
    {
        var delivery = Delivery();
        Due(delivery);

        var report = await DeliverAsync(Dispatcher(CallbackReceiver.Answering(status)), default);

        Assert.Equal(DeliveryOutcome.Delivered, report);
        Assert.Equal([delivery], _removed);
        Assert.Empty(_postponed);
        _store.Verify(s => s.RemoveSubscriptionAsync(It.IsAny<Tag>(), It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task The_post_goes_to_the_callback_url_with_its_query_intact()
    {
        var delivery = Delivery();
        Due(delivery);
        var receiver = CallbackReceiver.Answering(HttpStatusCode.OK);

        await DeliverAsync(Dispatcher(receiver), default);

        var request = Assert.Single(receiver.Requests);
        Assert.Equal(delivery.CallbackUrl, request.Uri);
        Assert.Equal(delivery.Body, request.Body);
        Assert.StartsWith("application/json", request.ContentType, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gone_receiver_ends_the_subscription()
    {
        var delivery = Delivery();
        Due(delivery);

        var report = await DeliverAsync(Dispatcher(CallbackReceiver.Answering(HttpStatusCode.Gone)), default);

        Assert.Equal(DeliveryOutcome.Dropped, report);
        _store.Verify(s => s.RemoveSubscriptionAsync(Tag.Parse("montag"), delivery.SubscriptionId, It.IsAny<CancellationToken>()), Times.Once);
        Assert.Equal([delivery], _removed);
        Assert.Empty(_postponed);
    }

    [Fact]
    public async Task A_gone_receiver_of_an_any_tag_subscription_ends_that_subscription()
    {
        var delivery = Delivery() with { AnyTag = true };
        Due(delivery);

        Assert.Equal(DeliveryOutcome.Dropped, await DeliverAsync(Dispatcher(CallbackReceiver.Answering(HttpStatusCode.Gone)), default));

        _store.Verify(s => s.RemoveSubscriptionAsync(null, delivery.SubscriptionId, It.IsAny<CancellationToken>()), Times.Once);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.RequestEntityTooLarge)]
    public async Task A_refusal_of_the_event_itself_goes_to_the_dead_letters_without_retry(HttpStatusCode status)
    {
        var delivery = Delivery(attempts: 2);
        Due(delivery);
        var order = new List<string>();
        _deadLetters.Setup(d => d.AddAsync(delivery, (int)status, DeadLetterReasons.Refused, _time.GetUtcNow(), It.IsAny<CancellationToken>()))
            .Callback(() => order.Add("dead-letter")).Returns(Task.CompletedTask);
        _store.Setup(s => s.RemoveDeliveryAsync(delivery, It.IsAny<CancellationToken>())).Callback(() => order.Add("remove")).ReturnsAsync(true);

        var report = await DeliverAsync(Dispatcher(CallbackReceiver.Answering(status)), default);

        Assert.Equal(DeliveryOutcome.DeadLettered, report);
        Assert.Equal(["dead-letter", "remove"], order); // the copy first: a crash between leaves the row to retry
        Assert.Empty(_postponed);
        Assert.Empty(_queued);
        _store.Verify(s => s.RemoveSubscriptionAsync(It.IsAny<Tag?>(), It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task A_dead_letter_store_failure_keeps_the_row_for_another_attempt()
    {
        Due(Delivery());
        _deadLetters.Setup(d => d.AddAsync(It.IsAny<PendingDelivery>(), It.IsAny<int?>(), It.IsAny<string>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreUnavailableException("Table Storage failed (HTTP 503)."));

        await Assert.ThrowsAsync<StoreUnavailableException>(() => DeliverAsync(Dispatcher(CallbackReceiver.Answering(HttpStatusCode.BadRequest)), default));

        Assert.Empty(_removed);
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.Forbidden)]
    public async Task An_unauthorized_or_forbidden_answer_is_retried_like_other_failures(HttpStatusCode status)
    {
        var delivery = Delivery(attempts: 1);
        Due(delivery);

        var report = await DeliverAsync(Dispatcher(CallbackReceiver.Answering(status)), default);

        Assert.Equal(DeliveryOutcome.Retried, report);
        Assert.Equal(_time.GetUtcNow() + _options.RetryDelay(2), Assert.Single(_postponed).Next);
        Assert.Empty(_removed);
        _deadLetters.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task A_delivery_whose_subscription_is_gone_is_dropped_unsent()
    {
        var delivery = Delivery() with { AnyTag = true };
        Due(delivery);
        _store.Setup(s => s.GetSubscriptionAsync(null, delivery.SubscriptionId, It.IsAny<CancellationToken>())).ReturnsAsync((Subscription?)null);
        var receiver = CallbackReceiver.Answering(HttpStatusCode.OK);

        Assert.Equal(DeliveryOutcome.Dropped, await DeliverAsync(Dispatcher(receiver), default));

        Assert.Empty(receiver.Requests);
        Assert.Equal([delivery], _removed);
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.GatewayTimeout)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    public async Task A_server_error_or_throttling_postpones_the_delivery_by_the_retry_delay(HttpStatusCode status)
    {
        var delivery = Delivery(attempts: 3);
        Due(delivery);

        var report = await DeliverAsync(Dispatcher(CallbackReceiver.Answering(status)), default);

        Assert.Equal(DeliveryOutcome.Retried, report);
        var (postponed, next) = Assert.Single(_postponed);
        Assert.Equal(delivery, postponed);
        Assert.Equal(_time.GetUtcNow() + _options.RetryDelay(4), next);
        Assert.Empty(_removed);
    }

    [Fact]
    public async Task The_first_failure_waits_the_first_retry_delay()
    {
        Due(Delivery(attempts: 0));

        await DeliverAsync(Dispatcher(CallbackReceiver.Answering(HttpStatusCode.InternalServerError)), default);

        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(30), Assert.Single(_postponed).Next);
    }

    [Fact]
    public async Task A_network_failure_postpones_the_delivery()
    {
        Due(Delivery(attempts: 1));

        var report = await DeliverAsync(Dispatcher(CallbackReceiver.Throwing(new HttpRequestException("Connection refused"))), default);

        Assert.Equal(DeliveryOutcome.Retried, report);
        Assert.Equal(_time.GetUtcNow() + _options.RetryDelay(2), Assert.Single(_postponed).Next);
        Assert.Empty(_removed);
    }

    [Fact]
    public async Task A_receiver_that_times_out_postpones_the_delivery()
    {
        Due(Delivery());

        var report = await DeliverAsync(Dispatcher(CallbackReceiver.Throwing(new TaskCanceledException("The request timed out."))), default);

        Assert.Equal(DeliveryOutcome.Retried, report);
        Assert.Single(_postponed);
    }

    [Fact]
    public async Task The_last_allowed_attempt_that_fails_keeps_the_delivery_as_an_exhausted_dead_letter()
    {
        var delivery = Delivery(attempts: _options.MaxAttempts - 1);
        Due(delivery);
        var order = new List<string>();
        _deadLetters.Setup(d => d.AddAsync(delivery, 500, DeadLetterReasons.Exhausted, _time.GetUtcNow(), It.IsAny<CancellationToken>()))
            .Callback(() => order.Add("dead-letter")).Returns(Task.CompletedTask);
        _store.Setup(s => s.RemoveDeliveryAsync(delivery, It.IsAny<CancellationToken>())).Callback(() => order.Add("remove")).ReturnsAsync(true);

        var report = await DeliverAsync(Dispatcher(CallbackReceiver.Answering(HttpStatusCode.InternalServerError)), default);

        Assert.Equal(DeliveryOutcome.DeadLettered, report);
        Assert.Equal(["dead-letter", "remove"], order); // the copy first: a crash between leaves the row to try again
        Assert.Empty(_postponed);
    }

    [Fact]
    public async Task A_last_attempt_with_no_answer_is_kept_with_no_status()
    {
        var delivery = Delivery(attempts: _options.MaxAttempts - 1);
        Due(delivery);

        Assert.Equal(DeliveryOutcome.DeadLettered, await DeliverAsync(Dispatcher(CallbackReceiver.Throwing(new HttpRequestException("reset"))), default));

        _deadLetters.Verify(d => d.AddAsync(delivery, null, DeadLetterReasons.Exhausted, _time.GetUtcNow(), It.IsAny<CancellationToken>()), Times.Once);
        Assert.Equal([delivery], _removed);
    }

    [Fact]
    public async Task The_attempt_before_the_last_is_still_postponed()
    {
        Due(Delivery(attempts: _options.MaxAttempts - 2));

        var report = await DeliverAsync(Dispatcher(CallbackReceiver.Throwing(new HttpRequestException("reset"))), default);

        Assert.Equal(DeliveryOutcome.Retried, report);
        Assert.Empty(_removed);
    }

    [Fact]
    public async Task Every_attempt_sends_the_same_event_id_and_body_bytes()
    {
        var receiver = new CallbackReceiver((_, call) => new HttpResponseMessage(call < 2 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK));
        var dispatcher = Dispatcher(receiver);

        for (var attempts = 0; attempts < 3; attempts++)
        {
            Due(Delivery(attempts));
            await DeliverAsync(dispatcher, default);
            _time.Advance(_options.RetryDelay(attempts + 1));
        }

        var requests = receiver.Requests.ToList();
        Assert.Equal(3, requests.Count);
        Assert.All(requests, r => Assert.Equal("6f1c0000000000000000000000000001", r.EventId));
        Assert.All(requests, r => Assert.Equal(requests[0].Body, r.Body));
        // Each attempt is signed at its own time, and verifies.
        Assert.Equal(3, requests.Select(r => r.Timestamp).Distinct().Count());
        Assert.All(requests, r => Assert.Equal(r.Signature, WebhookSignature.Sign(r.EventId!, DateTimeOffset.FromUnixTimeSeconds(long.Parse(r.Timestamp!, System.Globalization.CultureInfo.InvariantCulture)), r.Body, [SecretOf(1)])));
        Assert.Equal(2, _postponed.Count);
        Assert.Single(_removed);
    }

    /// <summary>A receiver built on the StandardWebhooks package, checking against the real clock (its tolerance is 5 minutes).</summary>
    private static void VerifyAsReceiver(CallbackReceiver.Received request, string secret) =>
        StandardWebhooksReceiver.Verify(secret, System.Text.Encoding.UTF8.GetString(request.Body), request.Headers);

    [Fact]
    public async Task A_standard_webhooks_receiver_verifies_the_delivery_with_the_subscription_secret_only()
    {
        _time.SetUtcNow(DateTimeOffset.UtcNow);
        Due(Delivery());
        var receiver = CallbackReceiver.Answering(HttpStatusCode.OK);

        await DeliverAsync(Dispatcher(receiver), default);

        var request = Assert.Single(receiver.Requests);
        Assert.Equal(_time.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), request.Timestamp);
        Assert.StartsWith("v1,", request.Signature, StringComparison.Ordinal);
        Assert.DoesNotContain(" ", request.Signature, StringComparison.Ordinal);
        VerifyAsReceiver(request, SecretOf(1));
        Assert.StartsWith("whsec_", SecretOf(1), StringComparison.Ordinal);
        // Another subscriber's secret, or the next generation, does not verify it: nobody can forge another's events.
        Assert.Throws<WebhookVerificationException>(() => VerifyAsReceiver(request, SecretOf(1, "0ther000000000000000000000000000")));
        Assert.Throws<WebhookVerificationException>(() => VerifyAsReceiver(request, SecretOf(2)));
    }

    [Fact]
    public async Task A_delivery_replayed_after_the_receivers_tolerance_is_refused_by_it()
    {
        // Sent ten minutes ago, captured, and posted again now: the receiver's 5-minute tolerance refuses it.
        _time.SetUtcNow(DateTimeOffset.UtcNow.AddMinutes(-10));
        Due(Delivery());
        var receiver = CallbackReceiver.Answering(HttpStatusCode.OK);

        await DeliverAsync(Dispatcher(receiver), default);

        var request = Assert.Single(receiver.Requests);
        var refused = Assert.Throws<WebhookVerificationException>(() => VerifyAsReceiver(request, SecretOf(1)));
        Assert.Contains("too old", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task During_a_rotation_overlap_both_secrets_verify_and_after_it_only_the_new_one()
    {
        _time.SetUtcNow(DateTimeOffset.UtcNow);
        Subscribed(SecretGenerations.First.Rotate(_time.GetUtcNow().AddHours(1)));
        var receiver = CallbackReceiver.Answering(HttpStatusCode.OK);
        var dispatcher = Dispatcher(receiver);

        Due(Delivery());
        await DeliverAsync(dispatcher, default);
        var during = Assert.Single(receiver.Requests);
        Assert.Equal(2, during.Signature!.Split(' ').Length);
        VerifyAsReceiver(during, SecretOf(1)); // a receiver that has not switched yet
        VerifyAsReceiver(during, SecretOf(2)); // and one that has

        // After the overlap (a receiver's clock is the real one: shift the sender's back to now after the jump).
        Subscribed(SecretGenerations.First.Rotate(_time.GetUtcNow().AddMinutes(-1)));
        Due(Delivery(eventId: "6f1c0000000000000000000000000002"));
        await DeliverAsync(dispatcher, default);
        var after = receiver.Requests.Last();
        Assert.Single(after.Signature!.Split(' '));
        VerifyAsReceiver(after, SecretOf(2));
        Assert.Throws<WebhookVerificationException>(() => VerifyAsReceiver(after, SecretOf(1)));
    }

    [Fact]
    public async Task The_event_id_header_is_the_body_id()
    {
        Due(Delivery(eventId: "abcdef00000000000000000000000042"));
        var receiver = CallbackReceiver.Answering(HttpStatusCode.OK);

        await DeliverAsync(Dispatcher(receiver), default);

        var request = Assert.Single(receiver.Requests);
        Assert.Equal("abcdef00000000000000000000000042", request.EventId); // webhook-id
        Assert.Equal("abcdef00000000000000000000000042", (string?)System.Text.Json.Nodes.JsonNode.Parse(request.Body)!["id"]);
    }

    [Fact]
    public async Task A_store_failure_after_delivery_leaves_the_row_due()
    {
        Due(Delivery());
        _store.Setup(s => s.RemoveDeliveryAsync(It.IsAny<PendingDelivery>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreUnavailableException("Table Storage failed (HTTP 503)."));

        // The message comes back (the queue retries it) and finds the row again: at least once, never lost.
        await Assert.ThrowsAsync<StoreUnavailableException>(() => DeliverAsync(Dispatcher(CallbackReceiver.Answering(HttpStatusCode.OK)), default));

        Assert.Empty(_postponed);
    }

    [Fact]
    public async Task A_store_failure_while_postponing_leaves_the_row_due()
    {
        Due(Delivery());
        _store.Setup(s => s.PostponeDeliveryAsync(It.IsAny<PendingDelivery>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreUnavailableException("Table Storage failed (HTTP 503)."));

        await Assert.ThrowsAsync<StoreUnavailableException>(() => DeliverAsync(Dispatcher(CallbackReceiver.Answering(HttpStatusCode.InternalServerError)), default));

        Assert.Empty(_removed);
        Assert.Empty(_queued); // no new message for a row that does not say when
    }

    [Fact]
    public async Task A_signing_key_out_of_reach_sends_nothing_and_says_so()
    {
        Due(Delivery());
        _secrets.Setup(s => s.GetAsync(AppSecret.CallbackSigningKey, It.IsAny<CancellationToken>()))
            .ThrowsAsync(new SecretUnavailableException(AppSecret.CallbackSigningKey, "callback-signing-key", "configuration", "missing"));
        var receiver = CallbackReceiver.Answering(HttpStatusCode.OK);

        await Assert.ThrowsAsync<SecretUnavailableException>(() => DeliverAsync(Dispatcher(receiver), default));

        Assert.Empty(receiver.Requests);
        Assert.Empty(_removed);
        Assert.Empty(_postponed);
    }

    [Theory]
    [InlineData(HttpStatusCode.OK)]
    [InlineData(HttpStatusCode.Gone)]
    [InlineData(HttpStatusCode.Forbidden)]
    [InlineData(HttpStatusCode.InternalServerError)]
    public async Task The_callback_url_query_never_appears_in_the_logs(HttpStatusCode status)
    {
        Due(Delivery(attempts: 2));

        await DeliverAsync(Dispatcher(CallbackReceiver.Answering(status)), default);

        AssertNothingLoggedCarriesTheQuery();
        if (status != HttpStatusCode.Gone)
        {
            // The target is still logged, by its path.
            Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Message.Contains("https://hooks.example.com/workflows/run", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task The_callback_url_query_never_appears_in_the_logs_of_a_network_failure()
    {
        Due(Delivery());

        await DeliverAsync(Dispatcher(CallbackReceiver.Throwing(new HttpRequestException($"No connection to https://hooks.example.com/workflows/run?{SecretQuery}"))), default);

        AssertNothingLoggedCarriesTheQuery();
    }

    [Fact]
    public async Task The_callback_url_query_never_appears_in_the_logs_when_the_last_attempt_fails()
    {
        Due(Delivery(attempts: _options.MaxAttempts - 1));

        await DeliverAsync(Dispatcher(CallbackReceiver.Throwing(new HttpRequestException("reset"))), default);

        AssertNothingLoggedCarriesTheQuery();
    }

    [Fact]
    public async Task A_message_whose_row_is_gone_posts_nothing_and_reads_no_signing_key()
    {
        var delivery = Delivery();
        var receiver = CallbackReceiver.Answering(HttpStatusCode.OK);

        var outcome = await Dispatcher(receiver).DeliverAsync(MessageFor(delivery), default);

        Assert.Equal(DeliveryOutcome.Skipped, outcome);
        Assert.Empty(receiver.Requests);
        _secrets.Verify(s => s.GetAsync(It.IsAny<AppSecret>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task A_row_another_attempt_holds_is_not_posted_again_but_looked_at_when_the_claim_ends()
    {
        Due(Delivery() with { ClaimedUntil = _time.GetUtcNow().AddSeconds(20) });
        var receiver = CallbackReceiver.Answering(HttpStatusCode.OK);

        var outcome = await DeliverAsync(Dispatcher(receiver), default);

        Assert.Equal(DeliveryOutcome.Skipped, outcome);
        Assert.Empty(receiver.Requests);
        _store.Verify(s => s.ClaimDeliveryAsync(It.IsAny<PendingDelivery>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()), Times.Never);
        Assert.Equal(TimeSpan.FromSeconds(21), Assert.Single(_queued).Delay); // if that attempt died, this one takes over
    }

    [Fact]
    public async Task A_claim_whose_time_has_passed_is_taken_over()
    {
        Due(Delivery() with { ClaimedUntil = _time.GetUtcNow().AddSeconds(-1) });
        var receiver = CallbackReceiver.Answering(HttpStatusCode.OK);

        Assert.Equal(DeliveryOutcome.Delivered, await DeliverAsync(Dispatcher(receiver), default));
        Assert.Single(receiver.Requests);
    }

    [Fact]
    public async Task A_duplicate_message_that_loses_the_claim_posts_nothing()
    {
        Due(Delivery());
        _store.Setup(s => s.ClaimDeliveryAsync(It.IsAny<PendingDelivery>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>())).ReturnsAsync((PendingDelivery?)null);
        var receiver = CallbackReceiver.Answering(HttpStatusCode.OK);

        Assert.Equal(DeliveryOutcome.Skipped, await DeliverAsync(Dispatcher(receiver), default));
        Assert.Empty(receiver.Requests);
        Assert.Empty(_removed);
    }

    [Fact]
    public async Task The_claim_lasts_the_attempt_timeout_and_a_margin()
    {
        Due(Delivery());

        await DeliverAsync(Dispatcher(CallbackReceiver.Answering(HttpStatusCode.OK)), default);

        _store.Verify(s => s.ClaimDeliveryAsync(It.IsAny<PendingDelivery>(), It.Is<DateTimeOffset>(until => until > _time.GetUtcNow() + _options.Timeout), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task An_early_message_is_queued_again_for_when_its_row_is_due()
    {
        Due(Delivery() with { NextAttemptAt = _time.GetUtcNow().AddMinutes(4) });
        var receiver = CallbackReceiver.Answering(HttpStatusCode.OK);

        Assert.Equal(DeliveryOutcome.Skipped, await DeliverAsync(Dispatcher(receiver), default));

        Assert.Empty(receiver.Requests);
        var (message, delay) = Assert.Single(_queued);
        Assert.Equal(MessageFor(_due!), message);
        Assert.Equal(TimeSpan.FromMinutes(4), delay);
    }

    [Fact]
    public async Task A_retry_rides_on_a_new_message_delayed_by_the_retry_delay()
    {
        Due(Delivery(attempts: 2));

        await DeliverAsync(Dispatcher(CallbackReceiver.Answering(HttpStatusCode.ServiceUnavailable)), default);

        var (message, delay) = Assert.Single(_queued);
        Assert.Equal(MessageFor(_due!), message);
        Assert.Equal(_options.RetryDelay(3), delay);
    }

    [Fact]
    public async Task A_delivered_or_dropped_row_queues_nothing_more()
    {
        Due(Delivery());
        await DeliverAsync(Dispatcher(CallbackReceiver.Answering(HttpStatusCode.OK)), default);
        Due(Delivery(eventId: "6f1c0000000000000000000000000002"));
        await DeliverAsync(Dispatcher(CallbackReceiver.Answering(HttpStatusCode.BadRequest)), default);

        Assert.Empty(_queued);
    }

    [Fact]
    public async Task The_receivers_body_is_never_read()
    {
        Due(Delivery());
        var receiver = new CallbackReceiver((_, _) => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new UnreadableStream()) });

        Assert.Equal(DeliveryOutcome.Delivered, await DeliverAsync(Dispatcher(receiver), default));
    }

    [Fact]
    public void A_logged_target_is_scheme_host_and_path_only() =>
        Assert.Equal("https://hooks.example.com/workflows/run", CallbackDispatcher.Describe(new Uri($"https://hooks.example.com/workflows/run?{SecretQuery}#frag")));

    [Fact]
    public async Task A_cancelled_run_records_no_attempt()
    {
        Due(Delivery());
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => DeliverAsync(Dispatcher(CallbackReceiver.Answering(HttpStatusCode.OK)), cancelled.Token));

        Assert.Empty(_postponed);
        Assert.Empty(_removed);
    }

    [Theory]
    [InlineData(HttpStatusCode.OK, 0, "delivered")]
    [InlineData(HttpStatusCode.ServiceUnavailable, 0, "retried")]
    [InlineData(HttpStatusCode.ServiceUnavailable, 11, "dead_lettered")]
    [InlineData(HttpStatusCode.BadRequest, 0, "dead_lettered")]
    [InlineData(HttpStatusCode.Gone, 0, "unsubscribed")]
    public async Task Each_delivery_outcome_moves_the_delivery_metric_once(HttpStatusCode status, int earlierAttempts, string outcome)
    {
        using var deliveries = _metrics.Collect<long>("tagstatus.callback.deliveries");
        Due(Delivery(attempts: earlierAttempts));

        await DeliverAsync(Dispatcher(CallbackReceiver.Answering(status)), default);

        var measurement = Assert.Single(deliveries.GetMeasurementSnapshot());
        Assert.Equal(1, measurement.Value);
        Assert.Equal(outcome, measurement.Tags["tagstatus.callback.outcome"]);
    }
}

/// <summary>A response body that fails if anyone reads it: a receiver may answer with anything, of any size.</summary>
internal sealed class UnreadableStream : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => 0; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new InvalidOperationException("The receiver's body was read.");
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

}
