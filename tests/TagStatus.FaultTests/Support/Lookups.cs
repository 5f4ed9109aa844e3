using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using TagStatus.Api.Handlers;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.FaultTests.Support;

/// <summary>An answer of <c>GET /api/tags/{tag}</c>: status, body, and <c>Retry-After</c> when there is one.</summary>
public sealed record LookupAnswer(int Status, string Body, string? RetryAfter);

public static class Lookups
{
    /// <summary><c>GET /api/tags/{tag}{query}</c> through the real handler, as both hosts call it.</summary>
    public static async Task<LookupAnswer> GetAsync(AppHarness app, string tag, string query)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("tags.example.net");
        context.Request.Path = "/api/tags/" + tag;
        context.Request.QueryString = new QueryString(query);
        using var body = new MemoryStream();
        context.Response.Body = body;
        var result = await app.Get<TagLookupHandler>().GetAsync(context.Request, tag, default);
        await result.ExecuteResultAsync(new ActionContext { HttpContext = context });
        var retryAfter = context.Response.Headers.RetryAfter;
        return new LookupAnswer(context.Response.StatusCode, Encoding.UTF8.GetString(body.ToArray()), retryAfter.Count > 0 ? retryAfter.ToString() : null);
    }
}
