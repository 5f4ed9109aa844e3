using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Http;
using TagStatus.Api.Handlers;
using Microsoft.Extensions.DependencyInjection;
using TagStatus.Api.Http;

namespace TagStatus.Tests.OpenApi;

public sealed class OpenApiHandlerTests
{
    [Fact]
    public async Task Serves_the_document_without_a_key_as_json_pointing_at_the_requested_host()
    {
        var context = Request("https", "tagstatus.example.net");
        Assert.False(context.Request.Headers.ContainsKey("x-functions-key"));
        Assert.False(context.Request.Query.ContainsKey("code"));

        var (response, body) = await ResultRunner.RunAsync(new OpenApiHandler().Get(context.Request), context);

        Assert.Equal(StatusCodes.Status200OK, response.StatusCode);
        Assert.StartsWith("application/json", response.ContentType, StringComparison.Ordinal);
        var served = ServedDocument.Parse(body);
        Assert.Empty(served.Diagnostic.Errors);
        Assert.Equal("tagstatus.example.net", ServedDocument.Text(served.Raw["host"]));
        Assert.Equal(["https"], served.Raw["schemes"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal("/api", ServedDocument.Text(served.Raw["basePath"]));
    }

    [Fact]
    public void The_functions_host_serves_the_document_anonymously()
    {
        var function = Assert.Single(RepoFiles.HttpFunctions(), f => f.Name == "GetOpenApiDocument");
        Assert.Equal("Anonymous", function.AuthLevel, ignoreCase: true);
        Assert.Equal("/openapi.json", function.OpenApiPath);
        Assert.Equal(["get"], function.Methods);
    }

    [Fact]
    public async Task Local_run_gets_its_own_scheme_and_port()
    {
        var context = Request("http", "localhost:7071");
        var (_, body) = await ResultRunner.RunAsync(new OpenApiHandler().Get(context.Request), context);

        var served = ServedDocument.Parse(body);
        Assert.Equal("localhost:7071", ServedDocument.Text(served.Raw["host"]));
        Assert.Equal(["http"], served.Raw["schemes"]!.AsArray().Select(s => s!.GetValue<string>()));
    }

    [Fact]
    public async Task Tls_terminated_at_a_trusted_front_end_still_yields_https()
    {
        var context = Request("http", "tagstatus.azurewebsites.net", trustForwarded: true);
        context.Request.Headers["X-Forwarded-Proto"] = "https";
        var (_, body) = await ResultRunner.RunAsync(new OpenApiHandler().Get(context.Request), context);

        Assert.Equal(["https"], ServedDocument.Parse(body).Raw["schemes"]!.AsArray().Select(s => s!.GetValue<string>()));
    }

    [Fact]
    public async Task Forwarded_proto_never_lowers_https()
    {
        var context = Request("https", "tagstatus.example.net", trustForwarded: true);
        context.Request.Headers["X-Forwarded-Proto"] = "http";
        var (_, body) = await ResultRunner.RunAsync(new OpenApiHandler().Get(context.Request), context);

        Assert.Equal(["https"], ServedDocument.Parse(body).Raw["schemes"]!.AsArray().Select(s => s!.GetValue<string>()));
    }

    [Fact]
    public void Serialized_document_is_cached_per_host()
    {
        var handler = new OpenApiHandler();
        var first = Bytes(handler, "https", "a.example.net");
        var again = Bytes(handler, "https", "a.example.net");
        var other = Bytes(handler, "https", "b.example.net");

        Assert.Same(first, again);
        Assert.NotSame(first, other);
    }

    [Fact]
    public async Task Past_the_cache_bound_each_host_still_gets_its_own_document()
    {
        var handler = new OpenApiHandler();
        for (var i = 0; i < OpenApiHandler.MaxCachedHosts + 4; i++)
        {
            _ = Bytes(handler, "https", $"h{i}.example.net");
        }

        var context = Request("https", "late.example.net");
        var (_, body) = await ResultRunner.RunAsync(handler.Get(context.Request), context);
        Assert.Equal("late.example.net", ServedDocument.Text(ServedDocument.Parse(body).Raw["host"]));
    }

    private static byte[] Bytes(OpenApiHandler handler, string scheme, string host)
    {
        var result = Assert.IsType<BodyResult>(handler.Get(Request(scheme, host).Request));
        Assert.True(MemoryMarshal.TryGetArray(result.Body, out var segment));
        return segment.Array!;
    }

    [Fact]
    public async Task Forwarded_headers_are_ignored_unless_the_app_is_configured_to_trust_them()
    {
        var context = Request("http", "tagstatus.example.net", trustForwarded: false);
        context.Request.Headers["X-Forwarded-Proto"] = "https";
        context.Request.Headers["X-Forwarded-Host"] = "evil.example.com";
        var (_, body) = await ResultRunner.RunAsync(new OpenApiHandler().Get(context.Request), context);

        var served = ServedDocument.Parse(body);
        Assert.Equal("tagstatus.example.net", ServedDocument.Text(served.Raw["host"]));
        Assert.Equal(["http"], served.Raw["schemes"]!.AsArray().Select(s => s!.GetValue<string>()));
    }

    [Theory]
    [InlineData("api.contoso.com", "https://api.contoso.com/api/x")]
    [InlineData("api.contoso.com:8443", "https://api.contoso.com:8443/api/x")]
    [InlineData("api.contoso.com, inner.local", "https://api.contoso.com/api/x")]
    [InlineData("evil.example.com/path", "https://tagstatus.example.net/api/x")]
    [InlineData("user@evil.example.com", "https://tagstatus.example.net/api/x")]
    public void Every_absolute_link_takes_a_trusted_forwarded_host_when_it_is_a_bare_host(string forwardedHost, string expected)
    {
        var context = Request("http", "tagstatus.example.net", trustForwarded: true);
        context.Request.Headers["X-Forwarded-Proto"] = "https";
        context.Request.Headers["X-Forwarded-Host"] = forwardedHost;

        Assert.Equal(expected, PublicUrl.Of(context.Request).Base + "/api/x");
    }

    [Fact]
    public void The_completion_location_and_next_links_come_from_the_same_public_url()
    {
        var context = Request("http", "tagstatus.internal", trustForwarded: true);
        context.Request.Headers["X-Forwarded-Proto"] = "https";
        context.Request.Headers["X-Forwarded-Host"] = "status.contoso.com";
        context.Request.Path = "/api/tags";
        context.Request.QueryString = new QueryString("?pageSize=2&code=secret-key");

        Assert.Equal("https://status.contoso.com/api/tags/montag/completion", TrackingHandler.CompletionUrl(context.Request, TagStatus.Core.Domain.Tag.Parse("montag")).Split('?')[0]);
        Assert.Equal("https://status.contoso.com/api/tags?pageSize=2&continuationToken=t", QueryReader.Link(context.Request, new Dictionary<string, string?> { ["continuationToken"] = "t" }));
    }

    [Fact]
    public async Task The_document_and_only_the_document_may_be_read_from_any_origin()
    {
        var context = Request("https", "tagstatus.example.net");
        context.Request.Headers.Origin = "https://portal.azure.com";
        var (response, _) = await ResultRunner.RunAsync(new OpenApiHandler().Get(context.Request), context);

        Assert.Equal("*", response.Headers.AccessControlAllowOrigin.ToString());
        Assert.False(response.Headers.ContainsKey("Access-Control-Allow-Credentials"));
        // No other handler writes CORS headers: a browser on another origin cannot read an answer that carries a key's data.
        foreach (var source in Directory.GetFiles(Path.Combine(RepoFiles.Root, "src", "TagStatus.Api", "Handlers"), "*.cs"))
        {
            var mentions = File.ReadAllText(source).Contains("AccessControlAllowOrigin", StringComparison.Ordinal);
            Assert.Equal(Path.GetFileName(source) == "OpenApiHandler.cs", mentions);
        }
    }

    private static DefaultHttpContext Request(string scheme, string host, bool trustForwarded = false)
    {
        var context = new DefaultHttpContext
        {
            RequestServices = new Microsoft.Extensions.DependencyInjection.ServiceCollection()
                .AddSingleton(Microsoft.Extensions.Options.Options.Create(new PublicUrlOptions { TrustForwardedHeaders = trustForwarded }))
                .BuildServiceProvider(),
        };
        context.Request.Method = HttpMethods.Get;
        context.Request.Scheme = scheme;
        context.Request.Host = new HostString(host);
        context.Request.Path = "/api/openapi.json";
        return context;
    }
}
