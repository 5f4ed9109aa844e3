using System.Text;
using System.Text.Json.Nodes;
using System.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using TagStatus.Api.Handlers;
using TagStatus.Core.Domain;
using TagStatus.Core.Tracking;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.IntegrationTests.Flows;

/// <summary><c>GET /api/tags</c> paging over real Azurite: the service's own continuation tokens, and nothing else.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ListingFlowTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private AppHarness _app = null!;

    public async Task InitializeAsync()
    {
        _app = await AppHarness.StartAsync(azurite);
        foreach (var name in new[] { "first", "second", "third" })
        {
            _app.Simulator.State.SeedTag(name, [new global::SmsPartner.Simulator.RecipientSeed { PhoneNumber = "+33600000001", Status = "Waiting" }]);
            await _app.Get<TrackingService>().RegisterAsync(Tag.Parse(name), default);
            _app.Advance(TimeSpan.FromSeconds(1));
        }
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<(int Status, JsonNode Body)> ListAsync(string query)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("tags.example.net");
        context.Request.Path = "/api/tags";
        context.Request.QueryString = new QueryString(query);
        var body = new MemoryStream();
        context.Response.Body = body;

        var result = await _app.Get<TrackingHandler>().ListAsync(context.Request, default);
        await result.ExecuteResultAsync(new ActionContext { HttpContext = context });
        return (context.Response.StatusCode, JsonNode.Parse(Encoding.UTF8.GetString(body.ToArray()))!);
    }

    [Fact]
    public async Task The_token_in_nextLink_leads_through_every_tracked_tag_once()
    {
        var seen = new List<string>();
        var query = "?pageSize=2";
        for (var pages = 0; pages < 5; pages++)
        {
            var (status, body) = await ListAsync(query);
            Assert.Equal(200, status);
            seen.AddRange(body["value"]!.AsArray().Select(t => (string)t!["tag"]!));
            var next = (string?)body["nextLink"];
            if (next is null)
            {
                break;
            }

            query = "?pageSize=2&continuationToken=" + Uri.EscapeDataString(HttpUtility.ParseQueryString(new Uri(next).Query)["continuationToken"]!);
        }

        Assert.Equal(["third", "second", "first"], seen);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("dHJhY2tlZA")]
    [InlineData("tracked%200000000000000000000~Zmlyc3Q")]
    [InlineData("%00%01")]
    public async Task A_continuation_token_the_service_did_not_give_is_a_400_naming_the_parameter(string token)
    {
        var (status, body) = await ListAsync("?continuationToken=" + token);

        Assert.Equal(400, status);
        Assert.Equal("continuationToken", (string?)body["parameter"]);
    }

    [Fact]
    public async Task A_token_altered_by_one_character_is_a_400()
    {
        var (_, first) = await ListAsync("?pageSize=1");
        var token = HttpUtility.ParseQueryString(new Uri((string)first["nextLink"]!).Query)["continuationToken"]!;
        var altered = token[..^1] + (token[^1] == 'A' ? 'B' : 'A');

        var (status, body) = await ListAsync("?continuationToken=" + Uri.EscapeDataString(altered));

        Assert.Equal(400, status);
        Assert.Equal("continuationToken", (string?)body["parameter"]);
    }
}
