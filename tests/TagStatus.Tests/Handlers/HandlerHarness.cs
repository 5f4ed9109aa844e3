using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Azure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using TagStatus.Core.Refresh;
using TagStatus.Api.Handlers;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using TagStatus.Core.Tracking;
using TagStatus.Tests.Support;

namespace TagStatus.Tests.Handlers;

/// <summary>An answer as a client would see it.</summary>
internal sealed record Answer(int Status, IHeaderDictionary Headers, string Body)
{
    public string? ContentType => Headers.ContentType;

    public string? Location => Headers.Location;

    public string? RetryAfter => Headers.RetryAfter;

    public JsonNode Json => JsonNode.Parse(Body) ?? throw new InvalidOperationException("null body");

    public void AssertProblem(int status, string? parameter = null, string? detailContains = null)
    {
        Assert.Equal(status, Status);
        Assert.Equal("application/problem+json; charset=utf-8", ContentType);
        Assert.Equal(status, (int?)Json["status"]);
        Assert.False(string.IsNullOrEmpty((string?)Json["type"]));
        Assert.False(string.IsNullOrEmpty((string?)Json["title"]));
        if (parameter is not null)
        {
            Assert.Equal(parameter, (string?)Json["parameter"]);
        }

        if (detailContains is not null)
        {
            Assert.Contains(detailContains, (string?)Json["detail"], StringComparison.Ordinal);
        }
    }

    public void AssertUnavailable()
    {
        AssertProblem(503);
        Assert.True(int.TryParse(RetryAfter, out var seconds) && seconds > 0, $"Retry-After was '{RetryAfter}'.");
    }
}

/// <summary>
/// The real tracking and subscription services and handlers over a mocked store, callback store and SMS Partner
/// client, on a fake clock; requests go through a <see cref="DefaultHttpContext"/>.
/// </summary>
internal sealed class HandlerHarness
{
    public const string Host = "tags.example.net";

    public HandlerHarness()
    {
        Tracking = new TrackingService(F.Store.Object, F.InlineRead, F.Rules, new NoTagChangeObserver(), F.Time, NullLogger<TrackingService>.Instance);
        var options = Options.Create(CallbackOptions);
        var policy = new CallbackUrlPolicy(options, (host, _) => Task.FromResult(host switch
        {
            "hooks.example.com" => new[] { IPAddress.Parse("93.184.216.34") },
            _ => [IPAddress.Parse("10.0.0.9")],
        }));
        Subscriptions = new SubscriptionService(Callbacks.Object, F.Store.Object, Tracking, policy, new FixedSecrets(), options, F.Time);
        Callbacks.Setup(c => c.GetSubscriptionsAsync(It.IsAny<Tag>(), It.IsAny<CancellationToken>())).ReturnsAsync([]);
        Callbacks.Setup(c => c.GetAnyTagSubscriptionsAsync(It.IsAny<CancellationToken>())).ReturnsAsync([]);
        F.Store.Setup(s => s.SaveSummaryAsync(It.IsAny<TagSummary>(), It.IsAny<ETag?>(), It.IsAny<CancellationToken>())).Returns(Task.CompletedTask);
    }

    public LookupFixture F { get; } = new();

    public Mock<ICallbackStore> Callbacks { get; } = new();

    public CallbackOptions CallbackOptions { get; } = new();

    public TrackingService Tracking { get; }

    public SubscriptionService Subscriptions { get; }

    public TrackingHandler TrackingHandler => new(Tracking, F.Store.Object, F.Passes.Object, F.Time);

    public SubscriptionHandler SubscriptionHandler => new(Subscriptions);

    public static HttpContext Request(string method, string path, string query = "", string? body = null, bool sendContentLength = true)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Scheme = "https";
        context.Request.Host = new HostString(Host);
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query);
        if (body is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            context.Request.Body = new MemoryStream(bytes);
            context.Request.ContentType = "application/json";
            if (sendContentLength)
            {
                context.Request.ContentLength = bytes.Length;
            }
        }

        context.Response.Body = new MemoryStream();
        return context;
    }

    public static async Task<Answer> ExecuteAsync(HttpContext context, IActionResult result)
    {
        await result.ExecuteResultAsync(new ActionContext { HttpContext = context });
        var body = ((MemoryStream)context.Response.Body).ToArray();
        return new Answer(context.Response.StatusCode, context.Response.Headers, Encoding.UTF8.GetString(body));
    }
}
