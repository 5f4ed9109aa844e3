using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Azure;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using TagStatus.Core.Secrets;
using TagStatus.Core.Storage;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Callbacks;

/// <summary>A callback receiver at the HttpMessageHandler level: records every POST and answers from a script.</summary>
internal sealed class CallbackReceiver(Func<HttpRequestMessage, int, HttpResponseMessage> respond) : HttpMessageHandler
{
    private int _calls;

    public sealed record Received(Uri Uri, string? EventId, string? Signature, string? ContentType, byte[] Body);

    public ConcurrentQueue<Received> Requests { get; } = new();

    public static CallbackReceiver Answering(HttpStatusCode status) => new((_, _) => new HttpResponseMessage(status));

    public static CallbackReceiver Throwing(Exception e) => new((_, _) => throw e);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        Requests.Enqueue(new Received(
            request.RequestUri!,
            request.Headers.TryGetValues("X-TagStatus-Event-Id", out var ids) ? ids.Single() : null,
            request.Headers.TryGetValues("X-TagStatus-Signature", out var signatures) ? signatures.Single() : null,
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
    private const string SecretQuery = "sig=very-secret-signature";

    private readonly FakeTimeProvider _time = new(T0.AddHours(1));
    private readonly Mock<ICallbackStore> _store = new();
    private readonly Mock<ISecretSource> _secrets = new();
    private readonly FakeLogger<CallbackDispatcher> _logger = new();
    private readonly CallbackOptions _options = new();
    private readonly List<PendingDelivery> _removed = [];
    private readonly List<(PendingDelivery Delivery, DateTimeOffset Next)> _postponed = [];

    public CallbackDispatcherTests()
    {
        _secrets.Setup(s => s.GetAsync(AppSecret.CallbackSigningKey, It.IsAny<CancellationToken>())).ReturnsAsync(SigningKey);
        _store.Setup(s => s.RemoveDeliveryAsync(It.IsAny<PendingDelivery>(), It.IsAny<CancellationToken>()))
            .Callback((PendingDelivery d, CancellationToken _) => { lock (_removed) { _removed.Add(d); } })
            .ReturnsAsync(true);
        _store.Setup(s => s.PostponeDeliveryAsync(It.IsAny<PendingDelivery>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()))
            .Callback((PendingDelivery d, DateTimeOffset next, CancellationToken _) => { lock (_postponed) { _postponed.Add((d, next)); } })
            .ReturnsAsync(true);
        _store.Setup(s => s.RemoveSubscriptionAsync(It.IsAny<Tag>(), It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync(true);
    }

    private static PendingDelivery Delivery(int attempts = 0, string eventId = "6f1c0000000000000000000000000001", string subscriptionId = "5ub5000000000000000000000000000a") =>
        new("montag", eventId, TagEvent.Completed, subscriptionId,
            new Uri($"https://hooks.example.com/workflows/run?api-version=1&{SecretQuery}"),
            Encoding.UTF8.GetBytes($$"""{"id":"{{eventId}}","type":"tag.completed","tag":"montag"}"""),
            attempts, new ETag("delivery-etag"));

    private void Due(params PendingDelivery[] deliveries) =>
        _store.Setup(s => s.GetDueDeliveriesAsync(It.IsAny<DateTimeOffset>(), It.IsAny<int>(), It.IsAny<CancellationToken>())).ReturnsAsync(deliveries);

    private CallbackDispatcher Dispatcher(HttpMessageHandler receiver) =>
        new(new HttpClient(receiver), _store.Object, _secrets.Object, Options.Create(_options), _time, _logger);

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

    [Fact]
    public async Task Nothing_due_sends_nothing_and_reads_no_signing_key()
    {
        Due();
        var receiver = CallbackReceiver.Answering(HttpStatusCode.OK);

        var report = await Dispatcher(receiver).DeliverDueAsync(default);

        Assert.Equal(new DeliveryReport(0, 0, 0, 0), report);
        Assert.Empty(receiver.Requests);
        _secrets.Verify(s => s.GetAsync(It.IsAny<AppSecret>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Due_deliveries_are_read_as_of_now()
    {
        Due();

        await Dispatcher(CallbackReceiver.Answering(HttpStatusCode.OK)).DeliverDueAsync(default);

        _store.Verify(s => s.GetDueDeliveriesAsync(_time.GetUtcNow(), It.Is<int>(max => max > 0), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Theory]
    [InlineData(HttpStatusCode.OK)]
    [InlineData(HttpStatusCode.Accepted)]
    [InlineData(HttpStatusCode.NoContent)]
    public async Task A_2xx_answer_removes_the_delivery(HttpStatusCode status)
    {
        var delivery = Delivery();
        Due(delivery);

        var report = await Dispatcher(CallbackReceiver.Answering(status)).DeliverDueAsync(default);

        Assert.Equal(new DeliveryReport(1, 0, 0, 0), report);
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

        await Dispatcher(receiver).DeliverDueAsync(default);

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

        var report = await Dispatcher(CallbackReceiver.Answering(HttpStatusCode.Gone)).DeliverDueAsync(default);

        Assert.Equal(new DeliveryReport(0, 0, 1, 0), report);
        _store.Verify(s => s.RemoveSubscriptionAsync(Tag.Parse("montag"), delivery.SubscriptionId, It.IsAny<CancellationToken>()), Times.Once);
        Assert.Equal([delivery], _removed);
        Assert.Empty(_postponed);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.Forbidden)]
    [InlineData(HttpStatusCode.RequestEntityTooLarge)]
    public async Task A_refusal_drops_the_delivery_without_retry(HttpStatusCode status)
    {
        var delivery = Delivery();
        Due(delivery);

        var report = await Dispatcher(CallbackReceiver.Answering(status)).DeliverDueAsync(default);

        Assert.Equal(new DeliveryReport(0, 0, 1, 0), report);
        Assert.Equal([delivery], _removed);
        Assert.Empty(_postponed);
        _store.Verify(s => s.RemoveSubscriptionAsync(It.IsAny<Tag>(), It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
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

        var report = await Dispatcher(CallbackReceiver.Answering(status)).DeliverDueAsync(default);

        Assert.Equal(new DeliveryReport(0, 1, 0, 0), report);
        var (postponed, next) = Assert.Single(_postponed);
        Assert.Equal(delivery, postponed);
        Assert.Equal(_time.GetUtcNow() + _options.RetryDelay(4), next);
        Assert.Empty(_removed);
    }

    [Fact]
    public async Task The_first_failure_waits_the_first_retry_delay()
    {
        Due(Delivery(attempts: 0));

        await Dispatcher(CallbackReceiver.Answering(HttpStatusCode.InternalServerError)).DeliverDueAsync(default);

        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(30), Assert.Single(_postponed).Next);
    }

    [Fact]
    public async Task A_network_failure_postpones_the_delivery()
    {
        Due(Delivery(attempts: 1));

        var report = await Dispatcher(CallbackReceiver.Throwing(new HttpRequestException("Connection refused"))).DeliverDueAsync(default);

        Assert.Equal(new DeliveryReport(0, 1, 0, 0), report);
        Assert.Equal(_time.GetUtcNow() + _options.RetryDelay(2), Assert.Single(_postponed).Next);
        Assert.Empty(_removed);
    }

    [Fact]
    public async Task A_receiver_that_times_out_postpones_the_delivery()
    {
        Due(Delivery());

        var report = await Dispatcher(CallbackReceiver.Throwing(new TaskCanceledException("The request timed out."))).DeliverDueAsync(default);

        Assert.Equal(new DeliveryReport(0, 1, 0, 0), report);
        Assert.Single(_postponed);
    }

    [Fact]
    public async Task The_last_allowed_attempt_that_fails_drops_the_delivery()
    {
        var delivery = Delivery(attempts: _options.MaxAttempts - 1);
        Due(delivery);

        var report = await Dispatcher(CallbackReceiver.Answering(HttpStatusCode.InternalServerError)).DeliverDueAsync(default);

        Assert.Equal(new DeliveryReport(0, 0, 1, 0), report);
        Assert.Equal([delivery], _removed);
        Assert.Empty(_postponed);
    }

    [Fact]
    public async Task The_attempt_before_the_last_is_still_postponed()
    {
        Due(Delivery(attempts: _options.MaxAttempts - 2));

        var report = await Dispatcher(CallbackReceiver.Throwing(new HttpRequestException("reset"))).DeliverDueAsync(default);

        Assert.Equal(new DeliveryReport(0, 1, 0, 0), report);
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
            await dispatcher.DeliverDueAsync(default);
            _time.Advance(_options.RetryDelay(attempts + 1));
        }

        var requests = receiver.Requests.ToList();
        Assert.Equal(3, requests.Count);
        Assert.All(requests, r => Assert.Equal("6f1c0000000000000000000000000001", r.EventId));
        Assert.All(requests, r => Assert.Equal(requests[0].Body, r.Body));
        Assert.All(requests, r => Assert.Equal(requests[0].Signature, r.Signature));
        Assert.Equal(2, _postponed.Count);
        Assert.Single(_removed);
    }

    [Fact]
    public async Task The_signature_header_verifies_over_the_raw_body_with_the_signing_key()
    {
        Due(Delivery());
        var receiver = CallbackReceiver.Answering(HttpStatusCode.OK);

        await Dispatcher(receiver).DeliverDueAsync(default);

        var request = Assert.Single(receiver.Requests);
        Assert.NotNull(request.Signature);
        Assert.StartsWith("sha256=", request.Signature, StringComparison.Ordinal);
        Assert.True(CallbackSignature.Verify(request.Body, request.Signature, SigningKey));
        Assert.False(CallbackSignature.Verify(request.Body, request.Signature, "another-key"));
    }

    [Fact]
    public async Task The_event_id_header_is_the_body_id()
    {
        Due(Delivery(eventId: "abcdef00000000000000000000000042"));
        var receiver = CallbackReceiver.Answering(HttpStatusCode.OK);

        await Dispatcher(receiver).DeliverDueAsync(default);

        var request = Assert.Single(receiver.Requests);
        Assert.Equal("abcdef00000000000000000000000042", request.EventId);
        Assert.Equal("abcdef00000000000000000000000042", (string?)System.Text.Json.Nodes.JsonNode.Parse(request.Body)!["id"]);
    }

    [Fact]
    public async Task A_store_failure_after_delivery_leaves_the_row_due()
    {
        Due(Delivery());
        _store.Setup(s => s.RemoveDeliveryAsync(It.IsAny<PendingDelivery>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreUnavailableException("Table Storage failed (HTTP 503)."));

        var report = await Dispatcher(CallbackReceiver.Answering(HttpStatusCode.OK)).DeliverDueAsync(default);

        Assert.Equal(new DeliveryReport(0, 0, 0, 1), report);
        Assert.Empty(_postponed);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Exception is StoreUnavailableException);
    }

    [Fact]
    public async Task A_store_failure_while_postponing_leaves_the_row_due()
    {
        Due(Delivery());
        _store.Setup(s => s.PostponeDeliveryAsync(It.IsAny<PendingDelivery>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreUnavailableException("Table Storage failed (HTTP 503)."));

        var report = await Dispatcher(CallbackReceiver.Answering(HttpStatusCode.InternalServerError)).DeliverDueAsync(default);

        Assert.Equal(new DeliveryReport(0, 0, 0, 1), report);
        Assert.Empty(_removed);
    }

    [Fact]
    public async Task One_receiver_failing_does_not_stop_the_others()
    {
        var ok = Delivery(eventId: "00000000000000000000000000000001", subscriptionId: "a0000000000000000000000000000001");
        var down = Delivery(eventId: "00000000000000000000000000000002", subscriptionId: "a0000000000000000000000000000002");
        var gone = Delivery(eventId: "00000000000000000000000000000003", subscriptionId: "a0000000000000000000000000000003");
        var refused = Delivery(eventId: "00000000000000000000000000000004", subscriptionId: "a0000000000000000000000000000004");
        Due(ok, down, gone, refused);
        var byEvent = new Dictionary<string, HttpStatusCode>
        {
            [ok.EventId] = HttpStatusCode.OK,
            [down.EventId] = HttpStatusCode.ServiceUnavailable,
            [gone.EventId] = HttpStatusCode.Gone,
            [refused.EventId] = HttpStatusCode.Forbidden,
        };
        var receiver = new CallbackReceiver((request, _) => new HttpResponseMessage(byEvent[request.Headers.GetValues("X-TagStatus-Event-Id").Single()]));

        var report = await Dispatcher(receiver).DeliverDueAsync(default);

        Assert.Equal(new DeliveryReport(1, 1, 2, 0), report);
        Assert.Equal(4, receiver.Requests.Count);
        Assert.Equal(down, Assert.Single(_postponed).Delivery);
        Assert.Equal(
            new[] { ok.EventId, gone.EventId, refused.EventId }.Order(),
            _removed.Select(d => d.EventId).Order());
        _secrets.Verify(s => s.GetAsync(AppSecret.CallbackSigningKey, It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_signing_key_out_of_reach_sends_nothing_and_says_so()
    {
        Due(Delivery());
        _secrets.Setup(s => s.GetAsync(AppSecret.CallbackSigningKey, It.IsAny<CancellationToken>()))
            .ThrowsAsync(new SecretUnavailableException(AppSecret.CallbackSigningKey, "callback-signing-key", "configuration", "missing"));
        var receiver = CallbackReceiver.Answering(HttpStatusCode.OK);

        await Assert.ThrowsAsync<SecretUnavailableException>(() => Dispatcher(receiver).DeliverDueAsync(default));

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

        await Dispatcher(CallbackReceiver.Answering(status)).DeliverDueAsync(default);

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

        await Dispatcher(CallbackReceiver.Throwing(new HttpRequestException($"No connection to https://hooks.example.com/workflows/run?{SecretQuery}"))).DeliverDueAsync(default);

        AssertNothingLoggedCarriesTheQuery();
    }

    [Fact]
    public async Task The_callback_url_query_never_appears_in_the_logs_when_the_last_attempt_fails()
    {
        Due(Delivery(attempts: _options.MaxAttempts - 1));

        await Dispatcher(CallbackReceiver.Throwing(new HttpRequestException("reset"))).DeliverDueAsync(default);

        AssertNothingLoggedCarriesTheQuery();
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

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Dispatcher(CallbackReceiver.Answering(HttpStatusCode.OK)).DeliverDueAsync(cancelled.Token));

        Assert.Empty(_postponed);
        Assert.Empty(_removed);
    }
}
