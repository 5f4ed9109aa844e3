using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;
using TagStatus.Api.Handlers;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using TagStatus.Core.Lookup;
using TagStatus.Core.Queues;
using TagStatus.Core.Storage;
using TagStatus.Core.Refresh;
using TagStatus.Core.Secrets;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.Tracking;
using TagStatus.Tests.Support;

namespace TagStatus.Tests.Sequences;

/// <summary>
/// The whole read path with nothing mocked between SMS Partner's JSON and the answer's JSON: the real client (over a
/// scripted HTTP handler whose pages a test changes between reads), refresher, state rules, callback observer, lookup
/// service and handler, over an in-memory store, on a fake clock.
/// </summary>
internal sealed class UpstreamHarness
{
    public static readonly Tag MonTag = Tag.Parse("montag");

    public UpstreamHarness()
    {
        var secrets = new Mock<ISecretSource>();
        secrets.Setup(s => s.GetAsync(AppSecret.SmsPartnerApiKey, It.IsAny<CancellationToken>())).Returns(new ValueTask<string>("key"));
        var handler = ScriptedHttpHandler.Always(request => ScriptedHttpHandler.Json(PageBody(request.Page ?? 1)));
        var client = new SmsPartnerClient(
            new HttpClient(handler),
            secrets.Object,
            Options.Create(new SmsPartnerOptions { BaseUrl = new("https://sim.test/v1/"), MaxPages = 20 }),
            Time,
            NullLogger<SmsPartnerClient>.Instance);
        Callbacks.Setup(c => c.GetAnyTagSubscriptionsAsync(It.IsAny<CancellationToken>())).ReturnsAsync([]);
        Callbacks.Setup(c => c.GetSubscriptionsAsync(It.IsAny<Tag>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync([new Subscription("0123456789abcdef0123456789abcdef", MonTag.Value, new Uri("https://hooks.example.com/x"), Data.T0)]);
        Rules = new TagStateRules(Options.Create(Tracking));
        // Ranges of a few rows, so every sequence and property test here also proves the merge range by range.
        Refresher = new TagRefresher(client, Store, Rules, new CallbackObserver(Callbacks.Object), Time, NullLogger<TagRefresher>.Instance, rowsPerRange: 2);
        var lookupOptions = Options.Create(new LookupOptions { MaxInlinePages = 20, WaitForRefreshSeconds = 0 });
        var queue = new Mock<IWorkQueue>().Object;
        Lookup = new TagLookupService(
            Store, new InlineRead(client, Refresher, new Mock<IPassStore>().Object, Store, queue, lookupOptions, Options.Create(Tracking), NullLogger<InlineRead>.Instance), queue,
            lookupOptions, Options.Create(Tracking), Time, NullLogger<TagLookupService>.Instance);
    }

    public TrackingOptions Tracking { get; } = new();

    public FakeTimeProvider Time { get; } = new(Data.T0);

    public InMemoryTagStore Store { get; } = new();

    public Mock<ICallbackStore> Callbacks { get; } = new();

    public TagStateRules Rules { get; }

    public TagRefresher Refresher { get; }

    public TagLookupService Lookup { get; }

    /// <summary>What SMS Partner answers for page n (1-based), as JSON; a test replaces it between reads.</summary>
    public Func<int, string> PageBody { get; set; } = _ => SmsPartnerBodies.Page("1", "0");

    /// <summary>Upstream pages of <paramref name="pageSize"/> rows over <paramref name="rows"/> (JSON rows), announcing <paramref name="total"/>.</summary>
    public void Serve(int pageSize, string? total, params string[] rows) =>
        PageBody = page => SmsPartnerBodies.Page(page.ToString(System.Globalization.CultureInfo.InvariantCulture), total, [.. rows.Skip((page - 1) * pageSize).Take(pageSize)]);

    /// <summary>Serves exactly these pages, then empty pages.</summary>
    public void ServePages(string? total, params string[][] pages) =>
        PageBody = page => SmsPartnerBodies.Page(page.ToString(System.Globalization.CultureInfo.InvariantCulture), total, page <= pages.Length ? pages[page - 1] : []);

    /// <summary>The event types written to the outbox so far, in order.</summary>
    public IReadOnlyList<string> Events => Store.Companions.OfType<CallbackDelivery>().Select(d => d.EventType).ToList();

    /// <summary><c>GET /api/tags/montag?maxAge=…</c> through the real handler; the answer's JSON.</summary>
    public async Task<JsonNode> GetAsync(int maxAge = 0)
    {
        var handler = new TagLookupHandler(Lookup, Options.Create(new LookupOptions()));
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("tags.example.net");
        context.Request.Path = "/api/tags/montag";
        context.Request.QueryString = new QueryString($"?maxAge={maxAge}&pageSize=1000");
        var body = new MemoryStream();
        context.Response.Body = body;

        var result = await handler.GetAsync(context.Request, MonTag.Value, default);
        await result.ExecuteResultAsync(new ActionContext { HttpContext = context });

        Assert.Equal(200, context.Response.StatusCode);
        return JsonNode.Parse(Encoding.UTF8.GetString(body.ToArray())) ?? throw new InvalidOperationException("null body");
    }

    /// <summary>Rows stored for one number.</summary>
    public int RowsOf(string phone) => Store.Recipients(MonTag).Count(r => r.PhoneNumber == phone);
}
