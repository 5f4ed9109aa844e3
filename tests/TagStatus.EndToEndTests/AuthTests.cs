using System.Net;

namespace TagStatus.EndToEndTests;

/// <summary>
/// Function keys as the Functions host checks them: every route but /api/openapi.json wants <c>x-functions-key</c> or
/// <c>code</c>. The LocalHost and the real host check keys; <c>func start</c> does not, so the 401 tests skip there.
/// </summary>
public sealed class AuthTests
{
    /// <summary>Every function-level route of functions.metadata, with sample route values: a 401 also proves the route is mapped.</summary>
    public static TheoryData<string, string> FunctionLevelRoutes()
    {
        var data = new TheoryData<string, string>();
        foreach (var f in FunctionsMetadata.Load().Where(f => f.Trigger["authLevel"]?.GetValue<string>() == "Function"))
        {
            var path = f.Trigger["route"]!.GetValue<string>().Replace("{tag}", "montag", StringComparison.Ordinal).Replace("{id}", new string('a', 32), StringComparison.Ordinal);
            foreach (var method in f.Trigger["methods"]!.AsArray())
            {
                data.Add(method!.GetValue<string>().ToUpperInvariant(), "api/" + path);
            }
        }

        return data;
    }

    [KeyCheckingTheory]
    [MemberData(nameof(FunctionLevelRoutes))]
    public async Task A_call_without_a_key_answers_401(string method, string path)
    {
        using var app = E2e.App(withKey: false);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = Json.Body("""{ "tag": "montag", "callbackUrl": "https://example.com/hook" }""");
        }

        using var response = await app.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [KeyCheckingFact]
    public async Task A_wrong_key_answers_401()
    {
        using var app = E2e.App(withKey: false);
        app.DefaultRequestHeaders.Add("x-functions-key", "not-the-key");

        using var response = await app.GetAsync("api/tags");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task The_key_is_accepted_in_the_code_query_too()
    {
        using var app = E2e.App(withKey: false);

        using var response = await app.GetAsync($"api/tags?code={Uri.EscapeDataString(E2e.Key)}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_needs_no_key()
    {
        using var app = E2e.App(withKey: false);

        using var response = await app.GetAsync("api/openapi.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("2.0", (await Json.ReadAsync(response)).Str("swagger"));
    }
}
