using System.Net;
using System.Net.Http.Headers;
using static TagStatus.EndToEndTests.SimulatorAdmin;

namespace TagStatus.EndToEndTests;

/// <summary><c>GET /api/tags/{tag}</c>.</summary>
public sealed class TagLookupTests
{
    [Fact]
    public async Task A_tag_outside_the_send_rules_answers_400_with_a_problem_naming_the_rule()
    {
        using var app = E2e.App();

        using var response = await app.GetAsync("api/tags/NotLowercase");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await Json.ReadAsync(response);
        Assert.Equal(400, problem.Int("status"));
        Assert.Contains("lowercase", problem.Str("detail"), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_tag_nobody_sent_answers_404()
    {
        using var app = E2e.App();

        using var response = await app.GetAsync($"api/tags/{E2e.NewTag("none")}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_bad_query_value_answers_400()
    {
        using var app = E2e.App();

        using var response = await app.GetAsync("api/tags/montag?pageSize=0");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("pageSize", (await Json.ReadAsync(response)).Str("detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_live_read_answers_200_with_an_etag_that_answers_304()
    {
        var tag = E2e.NewTag("look");
        await SeedAsync(tag, Row("+33600000001"), Row("+33600000002"), Row("+33600000003", "Not delivered"));
        using var app = E2e.App();

        using var first = await app.GetAsync($"api/tags/{tag}?maxAge=0");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var body = await Json.ReadAsync(first);
        Assert.Equal(tag, body.Str("tag"));
        Assert.Equal("live", body.Str("source"));
        Assert.Equal("complete", body.Str("state"));
        Assert.Equal(3, body.Int("counts.total"));
        Assert.Equal(1, body.Int("counts.notDelivered"));
        Assert.Equal(3, body["recipients"]!.AsArray().Count);
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);

        using var again = new HttpRequestMessage(HttpMethod.Get, $"api/tags/{tag}");
        again.Headers.IfNoneMatch.Add(etag);
        using var second = await app.SendAsync(again);

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [Fact]
    public async Task Recipients_come_in_pages_linked_by_nextLink_and_filter_by_status()
    {
        var tag = E2e.NewTag("page");
        await SeedFiveAsync(tag);
        using var app = E2e.App();

        var phones = new List<string>();
        var url = $"api/tags/{tag}?pageSize=2";
        var pages = 0;
        while (url is not null)
        {
            using var response = await app.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await Json.ReadAsync(response);
            Assert.Equal(5, body.Int("counts.total"));
            phones.AddRange(body["recipients"]!.AsArray().Select(r => r!.Str("phoneNumber")!));
            url = body["nextLink"]?.GetValue<string>();
            Assert.True(url is null || url.StartsWith(E2e.BaseUrl.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal), $"nextLink {url} is not absolute on the app");
            Assert.True(++pages <= 3, "more pages than 5 recipients in pages of 2 make");
        }

        Assert.Equal(3, pages);
        // Storage order, every recipient once across the pages.
        Assert.Equal(["+33600000001", "+33600000002", "+33600000003", "+33600000004", "+33600000005"], phones.Order(StringComparer.Ordinal));

        using var filtered = await app.GetAsync($"api/tags/{tag}?status=notDelivered");
        var notDelivered = await Json.ReadAsync(filtered);
        Assert.Equal(5, notDelivered.Int("counts.total"));
        Assert.Equal(["+33600000002", "+33600000004"], notDelivered["recipients"]!.AsArray().Select(r => r!.Str("phoneNumber")!).Order(StringComparer.Ordinal));
        Assert.All(notDelivered["recipients"]!.AsArray(), r => Assert.Equal("notDelivered", r!.Str("status")));
    }

    /// <summary>
    /// As the connector pages with its updatenextlink policy: every page, nextLink included, goes through the connector,
    /// which adds the connection's x-functions-key header; nothing else carries the key. The merged root value arrays
    /// hold every recipient once, and nextLink names the same route (so the policy maps it to the same operation).
    /// </summary>
    [Fact]
    public async Task Recipients_page_as_a_root_value_array_to_the_last_page_with_the_key_in_the_header_only()
    {
        var tag = E2e.NewTag("rcpt");
        await SeedFiveAsync(tag);
        using var connector = E2e.App();
        using var anonymous = E2e.App(withKey: false);

        var phones = new List<string>();
        string? url = $"api/tags/{tag}/recipients?pageSize=2&maxAge=0";
        var pages = 0;
        while (url is not null)
        {
            using var response = await connector.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await Json.ReadAsync(response);
            phones.AddRange(body["value"]!.AsArray().Select(r => r!.Str("phoneNumber")!));
            url = body["nextLink"]?.GetValue<string>();
            if (url is not null)
            {
                Assert.DoesNotContain("code=", url, StringComparison.OrdinalIgnoreCase);
                Assert.Equal($"/api/tags/{tag}/recipients", new Uri(url).AbsolutePath);
                if (E2e.ChecksKeys)
                {
                    // Why the policy is needed: the link alone does not carry the key.
                    using var bare = await anonymous.GetAsync(url);
                    Assert.Equal(HttpStatusCode.Unauthorized, bare.StatusCode);
                }
            }

            Assert.True(++pages <= 3, "more pages than 5 recipients in pages of 2 make");
        }

        Assert.Equal(3, pages);
        Assert.Equal(["+33600000001", "+33600000002", "+33600000003", "+33600000004", "+33600000005"], phones.Order(StringComparer.Ordinal));
    }

    /// <summary>What a receiver of recipient.optedOut does when its event lists fewer numbers than opted out.</summary>
    [Fact]
    public async Task The_recipients_who_answered_STOP_are_listed_alone_and_a_bad_filter_is_a_400()
    {
        var tag = E2e.NewTag("stop");
        await SeedAsync(tag, Row("+33600000001"), Row("+33600000002", stopSms: true), Row("+33600000003", "Not delivered"), Row("+33600000004", stopSms: true));
        using var app = E2e.App();

        using var response = await app.GetAsync($"api/tags/{tag}/recipients?stopSms=true&maxAge=0");
        using var bad = await app.GetAsync($"api/tags/{tag}/recipients?stopSms=maybe");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await Json.ReadAsync(response);
        Assert.Equal(["+33600000002", "+33600000004"], body["value"]!.AsArray().Select(r => r!.Str("phoneNumber")!).Order(StringComparer.Ordinal));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("stopSms", (await Json.ReadAsync(bad)).Str("parameter"));
    }

    /// <summary>Five recipients, two of them not delivered.</summary>
    private static Task SeedFiveAsync(string tag) =>
        SeedAsync(tag, Row("+33600000001"), Row("+33600000002", "Not delivered"), Row("+33600000003"),
            Row("+33600000004", "Not delivered"), Row("+33600000005"));

    [Fact]
    public async Task Accept_text_csv_answers_every_matching_recipient_as_csv()
    {
        var tag = E2e.NewTag("csv");
        await SeedAsync(tag, Row("+33600000001"), Row("+33600000002", "Not delivered"), Row("+33600000003", "Waiting"));
        using var app = E2e.App();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/tags/{tag}?pageSize=1");
        request.Headers.Accept.Clear();
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));

        using var response = await app.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("phoneNumber,status,stopSms,statusAt", lines[0]);
        Assert.Equal(4, lines.Length); // every recipient: paging is for JSON
        Assert.StartsWith("+33600000002,notDelivered,false,", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("+33600000003,waiting,false,", lines[3], StringComparison.Ordinal);
    }
}
