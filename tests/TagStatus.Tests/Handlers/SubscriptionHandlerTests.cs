using Azure;
using Moq;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using TagStatus.Core.Storage;
using TagStatus.Tests.Support;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Handlers;

public sealed class SubscriptionHandlerTests
{
    private const string Id = "0123456789abcdef0123456789abcdef";
    private static readonly Tag MonTag = LookupFixture.MonTag;

    private readonly HandlerHarness _h = new();

    private LookupFixture F => _h.F;

    public SubscriptionHandlerTests() =>
        F.Stored(TagState.Pending, T0, [Recipient("+33600000001", DeliveryStatus.Waiting)], tracked: true);

    private async Task<Answer> SubscribeAsync(string tag, string? body, bool sendContentLength = true)
    {
        var context = HandlerHarness.Request("POST", $"/api/tags/{Uri.EscapeDataString(tag)}/subscriptions", body: body, sendContentLength: sendContentLength);
        return await HandlerHarness.ExecuteAsync(context, await _h.SubscriptionHandler.SubscribeAsync(context.Request, tag, default));
    }

    private async Task<Answer> UnsubscribeAsync(string tag, string id)
    {
        var context = HandlerHarness.Request("DELETE", $"/api/tags/{Uri.EscapeDataString(tag)}/subscriptions/{Uri.EscapeDataString(id)}");
        return await HandlerHarness.ExecuteAsync(context, await _h.SubscriptionHandler.UnsubscribeAsync(tag, id, default));
    }

    private void VerifyNotSubscribed() =>
        _h.Callbacks.Verify(c => c.AddSubscriptionAsync(It.IsAny<Subscription>(), It.IsAny<CancellationToken>()), Times.Never);

    [Fact]
    public async Task Subscribing_answers_201_with_the_location_of_the_subscription()
    {
        Subscription? added = null;
        _h.Callbacks.Setup(c => c.AddSubscriptionAsync(It.IsAny<Subscription>(), It.IsAny<CancellationToken>()))
            .Callback((Subscription s, CancellationToken _) => added = s).Returns(Task.CompletedTask);

        var answer = await SubscribeAsync("montag", """{ "callbackUrl": "https://hooks.example.com/workflows/run?sig=abc" }""");

        Assert.Equal(201, answer.Status);
        Assert.NotNull(added);
        Assert.Equal($"https://tags.example.net/api/tags/montag/subscriptions/{added.Id}", answer.Location);
        Assert.Matches("^[0-9a-f]{32}$", added.Id);
        Assert.Equal("application/json; charset=utf-8", answer.ContentType);
        Assert.Equal(added.Id, (string?)answer.Json["id"]);
        Assert.Equal("montag", (string?)answer.Json["tag"]);
        Assert.Equal("https://hooks.example.com/workflows/run?sig=abc", (string?)answer.Json["callbackUrl"]);
        Assert.Equal("2026-11-27T10:00:00Z", (string?)answer.Json["createdAt"]);
    }

    [Fact]
    public async Task Subscribing_to_an_unknown_tag_also_starts_tracking_it()
    {
        F.Store.Setup(s => s.GetSummaryAsync(MonTag, It.IsAny<CancellationToken>())).ReturnsAsync((StoredSummary?)null);
        F.Upstream(Upstream("+33600000001", "Waiting"));

        var answer = await SubscribeAsync("montag", """{ "callbackUrl": "https://hooks.example.com/run" }""");

        Assert.Equal(201, answer.Status);
        Assert.True(Assert.Single(F.Saved).Summary.Tracked);
    }

    [Theory]
    [InlineData("http://hooks.example.com/run", "https")]
    [InlineData("https://intranet.example.com/run", "private")]
    [InlineData("https://10.0.0.1/run", "private")]
    [InlineData("/run", "callbackUrl")]
    public async Task A_callback_url_the_policy_refuses_is_a_400_naming_callbackUrl(string url, string why)
    {
        var answer = await SubscribeAsync("montag", $$"""{ "callbackUrl": "{{url}}" }""");

        answer.AssertProblem(400, "callbackUrl", why);
        VerifyNotSubscribed();
    }

    [Fact]
    public async Task A_missing_callback_url_is_a_400_naming_callbackUrl()
    {
        (await SubscribeAsync("montag", "{}")).AssertProblem(400, "callbackUrl");
        VerifyNotSubscribed();
    }

    [Fact]
    public async Task A_subscription_past_the_limit_is_a_400()
    {
        _h.CallbackOptions.MaxSubscriptionsPerTag = 1;
        _h.Callbacks.Setup(c => c.GetSubscriptionsAsync(MonTag, It.IsAny<CancellationToken>()))
            .ReturnsAsync([new Subscription(Id, "montag", new Uri("https://hooks.example.com/1"), T0)]);

        var answer = await SubscribeAsync("montag", """{ "callbackUrl": "https://hooks.example.com/run" }""");

        answer.AssertProblem(400, "callbackUrl", "MaxSubscriptionsPerTag");
        VerifyNotSubscribed();
    }

    [Fact]
    public async Task Bad_json_is_a_400_naming_the_body()
    {
        (await SubscribeAsync("montag", """{ "callbackUrl": """)).AssertProblem(400, "body", "callbackUrl");
        VerifyNotSubscribed();
    }

    [Fact]
    public async Task A_body_over_16_KiB_is_a_413()
    {
        var url = "https://hooks.example.com/run?pad=" + new string('x', 16 * 1024);

        (await SubscribeAsync("montag", $$"""{ "callbackUrl": "{{url}}" }""", sendContentLength: false)).AssertProblem(413);
        VerifyNotSubscribed();
    }

    [Fact]
    public async Task Subscribing_to_a_bad_tag_is_a_400_naming_the_tag()
    {
        (await SubscribeAsync("MonTag", """{ "callbackUrl": "https://hooks.example.com/run" }""")).AssertProblem(400, "tag", "lowercase");
        VerifyNotSubscribed();
    }

    [Fact]
    public async Task Subscribing_while_storage_is_down_is_a_503_with_retry_after()
    {
        _h.Callbacks.Setup(c => c.AddSubscriptionAsync(It.IsAny<Subscription>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreUnavailableException("down"));

        (await SubscribeAsync("montag", """{ "callbackUrl": "https://hooks.example.com/run" }""")).AssertUnavailable();
    }

    [Fact]
    public async Task Subscribing_while_storage_cannot_even_be_read_is_a_503_with_retry_after()
    {
        _h.Callbacks.Setup(c => c.GetSubscriptionsAsync(It.IsAny<Tag>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreUnavailableException("down"));

        (await SubscribeAsync("montag", """{ "callbackUrl": "https://hooks.example.com/run" }""")).AssertUnavailable();
    }

    [Fact]
    public async Task Unsubscribing_answers_204_with_no_body()
    {
        _h.Callbacks.Setup(c => c.RemoveSubscriptionAsync(MonTag, Id, It.IsAny<CancellationToken>())).ReturnsAsync(true);

        var answer = await UnsubscribeAsync("montag", Id);

        Assert.Equal(204, answer.Status);
        Assert.Equal(string.Empty, answer.Body);
    }

    [Fact]
    public async Task Unsubscribing_an_unknown_subscription_twice_is_a_204_each_time()
    {
        // A 410 may already have ended it: turning the flow off must still succeed.
        _h.Callbacks.Setup(c => c.RemoveSubscriptionAsync(MonTag, Id, It.IsAny<CancellationToken>())).ReturnsAsync(false);

        Assert.Equal(204, (await UnsubscribeAsync("montag", Id)).Status);
        Assert.Equal(204, (await UnsubscribeAsync("montag", Id)).Status);
        _h.Callbacks.Verify(c => c.RemoveSubscriptionAsync(MonTag, Id, It.IsAny<CancellationToken>()), Times.Exactly(2));
    }

    [Theory]
    [InlineData("0123456789ABCDEF0123456789ABCDEF")]
    [InlineData("0123456789abcdef")]
    [InlineData("0123456789abcdef0123456789abcdef0")]
    [InlineData("0123456789abcdef0123456789abcdeg")]
    [InlineData("01234567-89ab-cdef-0123-456789abcdef")]
    [InlineData("../../../../etc/passwd")]
    public async Task A_malformed_subscription_id_is_a_400_naming_the_id(string id)
    {
        (await UnsubscribeAsync("montag", id)).AssertProblem(400, "id", "32 lowercase hexadecimal");
        _h.Callbacks.Verify(c => c.RemoveSubscriptionAsync(It.IsAny<Tag>(), It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Unsubscribing_under_a_bad_tag_is_a_400_naming_the_tag()
    {
        (await UnsubscribeAsync("Mon Tag", Id)).AssertProblem(400, "tag");
        _h.Callbacks.Verify(c => c.RemoveSubscriptionAsync(It.IsAny<Tag>(), It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Unsubscribing_while_storage_is_down_is_a_503_with_retry_after()
    {
        _h.Callbacks.Setup(c => c.RemoveSubscriptionAsync(It.IsAny<Tag>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreUnavailableException("down"));

        (await UnsubscribeAsync("montag", Id)).AssertUnavailable();
    }
}
