using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Extensions;
using Microsoft.OpenApi.Models;
using Microsoft.OpenApi.Readers;
using TagStatus.Api.OpenApi;

namespace TagStatus.Tests.OpenApi;

/// <summary>One HTTP function as the build's <c>functions.metadata</c> declares it.</summary>
public sealed record HttpFunction(string Name, string Route, IReadOnlyList<string> Methods, string AuthLevel)
{
    /// <summary>The route as an OpenAPI path under the base path: <c>tags/{tag:alpha}</c> becomes <c>/tags/{tag}</c>.</summary>
    public string OpenApiPath => "/" + System.Text.RegularExpressions.Regex.Replace(Route, @"\{([^}:=?]+)[^}]*\}", "{$1}");
}

/// <summary>Finds the repository and the build's outputs from where the test assembly runs.</summary>
public static class RepoFiles
{
    public static string Root { get; } = FindRoot();

    /// <summary>Debug or Release: the configuration the test assembly itself was built in (…/bin/&lt;Configuration&gt;/net10.0/).</summary>
    public static string Configuration { get; } = FindConfiguration();

    public static string FunctionsMetadataPath =>
        Path.Combine(Root, "src", "TagStatus.Functions", "bin", Configuration, "net10.0", "functions.metadata");

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>The HTTP-triggered functions the build declares. A missing file fails: it means the build did not produce it.</summary>
    public static IReadOnlyList<HttpFunction> HttpFunctions()
    {
        var path = FunctionsMetadataPath;
        Assert.True(File.Exists(path), $"functions.metadata not found at {path}: build src/TagStatus.Functions in the {Configuration} configuration first (dotnet test builds it through the project reference).");

        var functions = new List<HttpFunction>();
        foreach (var function in JsonNode.Parse(File.ReadAllText(path))!.AsArray())
        {
            var name = function!["name"]!.GetValue<string>();
            foreach (var binding in function["bindings"]!.AsArray())
            {
                if (binding!["type"]?.GetValue<string>() is not { } type || !type.Equals("httpTrigger", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var route = binding["route"]?.GetValue<string>() ?? name;
                var methods = binding["methods"]?.AsArray().Select(m => m!.GetValue<string>().ToLowerInvariant()).ToList()
                    ?? ["get", "post", "put", "delete", "patch", "head", "options"];
                functions.Add(new HttpFunction(name, route, methods, binding["authLevel"]?.GetValue<string>() ?? "Function"));
            }
        }

        return functions;
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "FunctionApp.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No FunctionApp.sln above {AppContext.BaseDirectory}.");
    }

    private static string FindConfiguration()
    {
        var parts = typeof(RepoFiles).Assembly.Location.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        var bin = Array.LastIndexOf(parts, "bin");
        if (bin < 0 || bin + 1 >= parts.Length)
        {
            throw new InvalidOperationException($"Cannot tell the build configuration from {typeof(RepoFiles).Assembly.Location}.");
        }

        return parts[bin + 1];
    }
}

/// <summary>The document as served, both as OpenAPI.NET reads it back and as raw JSON (what a connector import sees).</summary>
public sealed class ServedDocument
{
    private ServedDocument(string json, OpenApiDocument document, OpenApiDiagnostic diagnostic)
    {
        Json = json;
        Document = document;
        Diagnostic = diagnostic;
        Raw = JsonNode.Parse(json)!.AsObject();
    }

    public string Json { get; }

    public OpenApiDocument Document { get; }

    public OpenApiDiagnostic Diagnostic { get; }

    public JsonObject Raw { get; }

    public static ServedDocument For(string scheme = "https", string host = "tagstatus.example.net") =>
        Parse(TagStatusOpenApiDocument.Build(scheme, host).SerializeAsJson(OpenApiSpecVersion.OpenApi2_0));

    public static ServedDocument Parse(string json)
    {
        var document = new OpenApiStringReader().Read(json, out var diagnostic);
        return new ServedDocument(json, document, diagnostic);
    }

    /// <summary>The raw JSON of one operation: <c>paths[path][method]</c>.</summary>
    public JsonObject Operation(string path, string method) => Raw["paths"]![path]![method]!.AsObject();

    public JsonObject Definition(string name) => Raw["definitions"]![name]!.AsObject();

    public IEnumerable<(string Path, string Method, JsonObject Operation)> Operations() =>
        from path in Raw["paths"]!.AsObject()
        from method in path.Value!.AsObject()
        where !method.Key.StartsWith("x-", StringComparison.Ordinal) && method.Key != "parameters"
        select (path.Key, method.Key, method.Value!.AsObject());

    public static string? Text(JsonNode? node) => node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : null;
}

/// <summary>Runs an <see cref="IActionResult"/> against a <see cref="DefaultHttpContext"/> and captures the answer.</summary>
public static class ResultRunner
{
    public static async Task<(HttpResponse Response, string Body)> RunAsync(IActionResult result, HttpContext context)
    {
        var body = new MemoryStream();
        context.Response.Body = body;
        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new ActionDescriptor()));
        return (context.Response, System.Text.Encoding.UTF8.GetString(body.ToArray()));
    }
}
