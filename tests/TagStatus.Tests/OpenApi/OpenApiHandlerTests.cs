using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Http;
using TagStatus.Api.Handlers;
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
    public async Task Tls_terminated_at_the_front_end_still_yields_https()
    {
        var context = Request("http", "tagstatus.azurewebsites.net");
        context.Request.Headers["X-Forwarded-Proto"] = "https";
        var (_, body) = await ResultRunner.RunAsync(new OpenApiHandler().Get(context.Request), context);

        Assert.Equal(["https"], ServedDocument.Parse(body).Raw["schemes"]!.AsArray().Select(s => s!.GetValue<string>()));
    }

    [Fact]
    public async Task Forwarded_proto_never_lowers_https()
    {
        var context = Request("https", "tagstatus.example.net");
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

    private static DefaultHttpContext Request(string scheme, string host)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Get;
        context.Request.Scheme = scheme;
        context.Request.Host = new HostString(host);
        context.Request.Path = "/api/openapi.json";
        return context;
    }
}
