using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;
using static TagStatus.EndToEndTests.SimulatorAdmin;

namespace TagStatus.EndToEndTests;

/// <summary>
/// The timer (<c>RefreshPendingTags</c> on <c>RefreshSchedule</c>) carrying a campaign from pending to complete, the
/// completion polling that Logic Apps follows, and the signed callbacks of <c>/api/tags/{tag}/subscriptions</c>.
/// </summary>
public sealed class RefreshAndCallbackTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_timer_refreshes_a_registered_campaign_until_completion_answers_200()
    {
        var tag = E2e.NewTag("timer");
        await SeedAsync(tag,
            Row("+33600000001", "Waiting", settleAfterSeconds: 6),
            Row("+33600000002", "Waiting", settleAfterSeconds: 6),
            Row("+33600000003", "Waiting", settleAfterSeconds: 6, finalStatus: "Not delivered"));
        using var app = E2e.App();
        await TrackingTests.RegisterAsync(app, tag);

        using (var pending = await app.GetAsync($"api/tags/{tag}/completion"))
        {
            Assert.Equal(HttpStatusCode.Accepted, pending.StatusCode);
            Assert.Equal(new Uri(E2e.BaseUrl, $"api/tags/{tag}/completion"), pending.Headers.Location);
            Assert.NotNull(pending.Headers.RetryAfter);
            Assert.Equal("pending", (await Json.ReadAsync(pending)).Str("state"));
        }

        // Only the timer refreshes a tag that nobody looks up: completion reads the store and never SMS Partner. On the
        // real host the schedule never fires during the suite, so this is the admin API's run moving the tag.
        var done = await Polling.UntilCompletedAsync(app, tag, Deadline);

        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        var summary = JsonNode.Parse(done.Body)!;
        Assert.Equal("complete", summary.Str("state"));
        Assert.Equal(2, summary.Int("counts.delivered"));
        Assert.Equal(1, summary.Int("counts.notDelivered"));
        Assert.Equal(0, summary.Int("counts.waiting"));
        Assert.NotNull(summary["completedAt"]);
        Assert.Null(summary["recipients"]);
    }

    [Fact]
    public async Task A_subscriber_receives_a_signed_tag_completed_callback()
    {
        var tag = E2e.NewTag("hook");
        await SeedAsync(tag, Row("+33600000001", "Waiting", settleAfterSeconds: 3), Row("+33600000002", "Waiting", settleAfterSeconds: 3));
        await using var receiver = await CallbackReceiver.StartAsync();
        using var app = E2e.App();

        using var subscribed = await app.PostAsync($"api/tags/{tag}/subscriptions", Json.Body($$"""{ "callbackUrl": "{{receiver.Url}}" }"""));

        Assert.Equal(HttpStatusCode.Created, subscribed.StatusCode);
        var subscription = await Json.ReadAsync(subscribed);
        Assert.Equal(new Uri(E2e.BaseUrl, $"api/tags/{tag}/subscriptions/{subscription.Str("id")}"), subscribed.Headers.Location);

        // Both rows settle together, so the first event is the completion (a "tag.changed" would mean counts moved while pending).
        var callback = await receiver.NextAsync(Deadline);
        while (ParseEvent(callback).Str("type") == "tag.changed")
        {
            callback = await receiver.NextAsync(Deadline);
        }

        AssertSigned(callback, subscription.Str("secret")!);
        Assert.StartsWith("application/json", callback.ContentType, StringComparison.Ordinal);

        var evt = ParseEvent(callback);
        Assert.Equal(evt.Str("id"), callback.EventId);
        Assert.Equal("tag.completed", evt.Str("type"));
        Assert.Equal(tag, evt.Str("tag"));
        Assert.Equal("complete", evt.Str("data.state"));
        Assert.Equal(2, evt.Int("data.counts.delivered"));
    }

    [Fact]
    public async Task Two_numbers_opting_out_reach_a_recipient_optedOut_subscriber_as_one_signed_event_listing_both()
    {
        var tag = E2e.NewTag("optout");
        // A waiting row keeps the tag pending, so a later read merges instead of leaving a settled tag alone.
        object[] Rows(bool optOut) =>
        [
            Row("+33600000001", stopSms: optOut), Row("+33600000002", stopSms: optOut), Row("+33600000003", "Waiting", settleAfterSeconds: 3600),
        ];
        await SeedAsync(tag, Rows(optOut: false));
        await using var receiver = await CallbackReceiver.StartAsync();
        using var app = E2e.App();
        using var subscribed = await app.PostAsync($"api/tags/{tag}/subscriptions", Json.Body($$"""{ "callbackUrl": "{{receiver.Url}}", "events": ["recipient.optedOut"] }"""));
        Assert.Equal(HttpStatusCode.Created, subscribed.StatusCode);
        var secret = (await Json.ReadAsync(subscribed)).Str("secret")!;
        using (var stored = await app.GetAsync($"api/tags/{tag}?maxAge=0"))
        {
            Assert.Equal(0, JsonNode.Parse(await stored.Content.ReadAsStringAsync())!.Int("counts.optedOut"));
        }

        await SeedAsync(tag, Rows(optOut: true));
        using (var read = await app.GetAsync($"api/tags/{tag}?maxAge=0"))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        var callback = await receiver.NextAsync(Deadline);
        AssertSigned(callback, secret);
        var evt = ParseEvent(callback);
        Assert.Equal("recipient.optedOut", evt.Str("type"));
        Assert.Equal(tag, evt.Str("tag"));
        Assert.Equal(["+33600000001", "+33600000002"], evt["data"]!["phoneNumbers"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(2, evt.Int("data.counts.optedOut"));
    }

    [Fact]
    public async Task A_callback_answered_500_is_retried_with_the_same_id_and_bytes_each_attempt_signed()
    {
        var tag = E2e.NewTag("retry");
        await SeedAsync(tag, Row("+33600000001", "Waiting", settleAfterSeconds: 1));
        await using var receiver = await CallbackReceiver.StartAsync(failFirst: 1);
        using var app = E2e.App();

        using var subscribed = await app.PostAsync($"api/tags/{tag}/subscriptions", Json.Body($$"""{ "callbackUrl": "{{receiver.Url}}" }"""));
        Assert.Equal(HttpStatusCode.Created, subscribed.StatusCode);
        var secret = (await Json.ReadAsync(subscribed)).Str("secret")!;

        var refused = await receiver.NextAsync(Deadline);
        var retried = await receiver.NextAsync(Deadline);

        Assert.Equal(500, refused.AnsweredStatus);
        Assert.Equal(204, retried.AnsweredStatus);
        Assert.Equal(refused.EventId, retried.EventId);
        Assert.Equal(refused.Body, retried.Body);
        AssertSigned(refused, secret);
        AssertSigned(retried, secret);
        Assert.Equal(tag, ParseEvent(retried).Str("tag"));
    }

    [Fact]
    public async Task Unsubscribing_at_the_location_answers_204()
    {
        using var app = E2e.App();
        var location = await SubscribeAsync(app, E2e.NewTag("unsub"));

        using var response = await app.DeleteAsync(location);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Fact]
    public async Task Unsubscribing_twice_answers_204_both_times()
    {
        using var app = E2e.App();
        var location = await SubscribeAsync(app, E2e.NewTag("unsub2"));
        using var first = await app.DeleteAsync(location);

        using var second = await app.DeleteAsync(location);

        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, second.StatusCode);
    }

    [Fact]
    public async Task An_any_tag_subscription_for_completions_gets_the_signed_completion_of_a_tag_with_its_prefix_and_unsubscribes_twice()
    {
        var tag = E2e.NewTag("anytag");
        await SeedAsync(tag, Row("+33600000001", "Waiting", settleAfterSeconds: 1), Row("+33600000002", "Waiting", settleAfterSeconds: 4));
        await using var receiver = await CallbackReceiver.StartAsync();
        using var app = E2e.App();

        using var subscribed = await app.PostAsync("api/subscriptions", Json.Body($$"""{ "callbackUrl": "{{receiver.Url}}", "events": ["tag.completed"], "tagPrefix": "{{tag}}" }"""));
        Assert.Equal(HttpStatusCode.Created, subscribed.StatusCode);
        var subscription = await Json.ReadAsync(subscribed);
        Assert.Equal(new Uri(E2e.BaseUrl, $"api/subscriptions/{subscription.Str("id")}"), subscribed.Headers.Location);
        Assert.Null(subscription["tag"]);
        await TrackingTests.RegisterAsync(app, tag);

        var callback = await receiver.NextAsync(Deadline);

        Assert.Equal("tag.completed", ParseEvent(callback).Str("type")); // the tag.changed on the way was filtered out
        Assert.Equal(tag, ParseEvent(callback).Str("tag"));
        AssertSigned(callback, subscription.Str("secret")!);
        using var first = await app.DeleteAsync(subscribed.Headers.Location);
        using var second = await app.DeleteAsync(subscribed.Headers.Location);
        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, second.StatusCode);
    }

    [Fact]
    public async Task A_callback_url_that_is_not_http_answers_400()
    {
        using var app = E2e.App();

        using var response = await app.PostAsync($"api/tags/{E2e.NewTag("badurl")}/subscriptions", Json.Body("""{ "callbackUrl": "ftp://example.com/hook" }"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("callbackUrl", (await Json.ReadAsync(response)).Str("detail"), StringComparison.Ordinal);
    }

    private static async Task<Uri> SubscribeAsync(HttpClient app, string tag)
    {
        await SeedAsync(tag, Row("+33600000001", "Waiting"));
        using var subscribed = await app.PostAsync($"api/tags/{tag}/subscriptions", Json.Body("""{ "callbackUrl": "http://127.0.0.1:9/never" }"""));
        Assert.Equal(HttpStatusCode.Created, subscribed.StatusCode);
        return subscribed.Headers.Location!;
    }

    private static JsonNode ParseEvent(ReceivedCallback callback) => JsonNode.Parse(callback.Body)!;

    /// <summary>
    /// What a receiver does with the StandardWebhooks package: verify id, timestamp (within 5 minutes of now) and body
    /// against the subscription's secret, one v1 signature at a time (the package compares only the first it is given).
    /// </summary>
    private static void AssertSigned(ReceivedCallback callback, string secret)
    {
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.NotNull(callback.Signature);
        var body = Encoding.UTF8.GetString(callback.Body);
        var verified = callback.Signature!.Split(' ').Count(signature =>
        {
            try
            {
                new StandardWebhook(secret).Verify(body, new HeaderDictionary
                {
                    ["webhook-id"] = callback.EventId,
                    ["webhook-timestamp"] = callback.Timestamp,
                    ["webhook-signature"] = signature,
                });
                return true;
            }
            catch (WebhookVerificationException)
            {
                return false;
            }
        });
        Assert.True(verified > 0, $"webhook-signature {callback.Signature} does not verify with the subscription's secret");
    }
}
