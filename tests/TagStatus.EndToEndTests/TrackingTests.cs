using System.Net;
using static TagStatus.EndToEndTests.SimulatorAdmin;

namespace TagStatus.EndToEndTests;

/// <summary><c>POST /api/tags</c>, <c>GET /api/tags/{tag}/completion</c>, <c>GET /api/tags</c>, <c>DELETE /api/tags/{tag}</c>.</summary>
public sealed class TrackingTests
{
    [Fact]
    public async Task Registering_answers_202_with_the_completion_location_and_retry_after()
    {
        var tag = E2e.NewTag("reg");
        await SeedAsync(tag, Row("+33600000001", "Waiting"), Row("+33600000002"));
        using var app = E2e.App();

        using var response = await app.PostAsync("api/tags", Json.Body($$"""{ "tag": "{{tag}}" }"""));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(new Uri(E2e.BaseUrl, $"api/tags/{tag}/completion"), response.Headers.Location);
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After in seconds");
        var body = await Json.ReadAsync(response);
        Assert.Equal(tag, body.Str("tag"));
        Assert.Equal("pending", body.Str("state"));
        Assert.True(body["tracked"]!.GetValue<bool>());
        Assert.Equal(1, body.Int("counts.waiting"));

        using var twice = await app.PostAsync("api/tags", Json.Body($$"""{ "tag": "{{tag}}" }"""));
        Assert.Equal(HttpStatusCode.Accepted, twice.StatusCode);
    }

    [Fact]
    public async Task Registering_without_a_valid_tag_answers_400()
    {
        using var app = E2e.App();

        using var noTag = await app.PostAsync("api/tags", Json.Body("""{ "name": "x" }"""));
        using var notJson = await app.PostAsync("api/tags", Json.Body("tag=montag"));

        Assert.Equal(HttpStatusCode.BadRequest, noTag.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
    }

    [Fact]
    public async Task Completion_of_a_tag_never_registered_answers_404()
    {
        using var app = E2e.App();

        using var response = await app.GetAsync($"api/tags/{E2e.NewTag("unreg")}/completion");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task The_list_filters_by_state_and_pages_with_nextLink()
    {
        var pending = new[] { E2e.NewTag("lsta"), E2e.NewTag("lstb"), E2e.NewTag("lstc") };
        var complete = E2e.NewTag("lstd");
        using var app = E2e.App();
        foreach (var tag in pending)
        {
            await SeedAsync(tag, Row("+33600000001", "Waiting")); // never settles: stays pending
            await RegisterAsync(app, tag);
        }

        await SeedAsync(complete, Row("+33600000001"));
        await RegisterAsync(app, complete);

        var (pendingTags, pendingPages) = await ListAllAsync(app, "api/tags?state=pending&pageSize=2");
        var (completeTags, _) = await ListAllAsync(app, "api/tags?state=complete&pageSize=50");

        Assert.True(pendingPages >= 2, "three pending tags in pages of two take a nextLink");
        Assert.All(pending, tag => Assert.Contains(tag, pendingTags.Keys));
        Assert.All(pendingTags.Values, state => Assert.Equal("pending", state));
        Assert.Contains(complete, completeTags.Keys);
        Assert.All(completeTags.Values, state => Assert.Equal("complete", state));
        Assert.DoesNotContain(complete, pendingTags.Keys);

        using var bad = await app.GetAsync("api/tags?state=done");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task Untracking_answers_204_then_404()
    {
        var tag = E2e.NewTag("untr");
        await SeedAsync(tag, Row("+33600000001", "Waiting"));
        using var app = E2e.App();
        await RegisterAsync(app, tag);

        using var first = await app.DeleteAsync($"api/tags/{tag}");
        using var second = await app.DeleteAsync($"api/tags/{tag}");

        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, second.StatusCode);
        using var lookup = await app.GetAsync($"api/tags/{tag}");
        Assert.False((await Json.ReadAsync(lookup))["tracked"]!.GetValue<bool>()); // the data is kept
    }

    internal static async Task RegisterAsync(HttpClient app, string tag)
    {
        using var response = await app.PostAsync("api/tags", Json.Body($$"""{ "tag": "{{tag}}" }"""));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private static async Task<(Dictionary<string, string> Tags, int Pages)> ListAllAsync(HttpClient app, string url)
    {
        var tags = new Dictionary<string, string>();
        var pages = 0;
        for (string? next = url; next is not null; pages++)
        {
            Assert.True(pages < 1000, "the list never ends");
            using var response = await app.GetAsync(next);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await Json.ReadAsync(response);
            foreach (var item in body["value"]!.AsArray().OfType<System.Text.Json.Nodes.JsonNode>())
            {
                tags[item.Str("tag")!] = item.Str("state")!;
            }

            next = body["nextLink"]?.GetValue<string>();
            // The key went in the header only, as the connector's updatenextlink policy sends it: no page leaks it.
            Assert.DoesNotContain("code=", next ?? string.Empty, StringComparison.OrdinalIgnoreCase);
        }

        return (tags, pages);
    }
}
