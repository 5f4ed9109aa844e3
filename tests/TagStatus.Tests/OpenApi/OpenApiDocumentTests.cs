using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Models;
using TagStatus.Api.OpenApi;
using Ops = TagStatus.Api.OpenApi.TagStatusOpenApiDocument.Operations;

namespace TagStatus.Tests.OpenApi;

public sealed class OpenApiDocumentTests
{
    private static readonly string[] FunctionNames =
    [
        Ops.GetTag, Ops.GetTagRecipients, Ops.RegisterTag, Ops.ListTags, Ops.UntrackTag, Ops.GetTagCompletion, Ops.SubscribeToTag, Ops.UnsubscribeFromTag, Ops.GetOpenApiDocument,
        Ops.RotateTagSubscriptionSecret, Ops.SubscribeToAnyTag, Ops.UnsubscribeFromAnyTag, Ops.RotateAnyTagSubscriptionSecret, Ops.ListDeadLetters, Ops.ReplayDeadLetter, Ops.DeleteDeadLetter, Ops.GetHealth,
    ];

    private readonly ServedDocument _served = ServedDocument.For();

    [Fact]
    public void Document_reads_back_as_swagger_2_without_errors_or_warnings()
    {
        Assert.Empty(_served.Diagnostic.Errors);
        Assert.Empty(_served.Diagnostic.Warnings);
        Assert.Equal(OpenApiSpecVersion.OpenApi2_0, _served.Diagnostic.SpecificationVersion);
        Assert.Equal("2.0", ServedDocument.Text(_served.Raw["swagger"]));
        Assert.Equal("/api", ServedDocument.Text(_served.Raw["basePath"]));
        Assert.Equal("Tag Status", _served.Document.Info.Title);
    }

    [Fact]
    public void Build_declares_the_expected_http_functions()
    {
        var declared = RepoFiles.HttpFunctions().Select(f => f.Name).Order(StringComparer.Ordinal);
        Assert.Equal(FunctionNames.Order(StringComparer.Ordinal), declared);
    }

    [Fact]
    public void Every_http_function_route_and_method_is_described_under_its_function_name()
    {
        foreach (var function in RepoFiles.HttpFunctions())
        {
            Assert.True(_served.Document.Paths.TryGetValue(function.OpenApiPath, out var item), $"{function.Name}: path {function.OpenApiPath} is not described.");
            foreach (var method in function.Methods)
            {
                Assert.True(item.Operations.TryGetValue(ToOperationType(method), out var operation), $"{function.Name}: {method.ToUpperInvariant()} {function.OpenApiPath} is not described.");
                Assert.Equal(function.Name, operation.OperationId);
            }
        }
    }

    [Fact]
    public void Nothing_is_described_that_no_function_serves()
    {
        var served = RepoFiles.HttpFunctions()
            .SelectMany(f => f.Methods.Select(m => (f.OpenApiPath, Method: m)))
            .ToHashSet();
        foreach (var (path, item) in _served.Document.Paths)
        {
            foreach (var (type, operation) in item.Operations)
            {
                var method = type.ToString().ToLowerInvariant();
                Assert.True(served.Contains((path, method)), $"{operation.OperationId}: {method.ToUpperInvariant()} {path} is described but no function serves it.");
            }
        }
    }

    [Fact]
    public void Operation_ids_are_unique_and_are_the_function_names()
    {
        var ids = _served.Operations().Select(o => ServedDocument.Text(o.Operation["operationId"])).ToList();
        Assert.Equal(FunctionNames.Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Function_key_is_an_api_key_in_the_x_functions_key_header()
    {
        var scheme = _served.Document.Components.SecuritySchemes[TagStatusOpenApiDocument.SecuritySchemeName];
        Assert.Equal(SecuritySchemeType.ApiKey, scheme.Type);
        Assert.Equal("x-functions-key", scheme.Name);
        Assert.Equal(ParameterLocation.Header, scheme.In);
    }

    [Fact]
    public void Every_operation_but_the_document_requires_the_function_key_as_its_function_does()
    {
        var authLevels = RepoFiles.HttpFunctions().ToDictionary(f => f.Name, f => f.AuthLevel);
        foreach (var (path, method, operation) in _served.Operations())
        {
            var id = ServedDocument.Text(operation["operationId"])!;
            var schemes = (operation["security"]?.AsArray() ?? []).SelectMany(r => r!.AsObject().Select(p => p.Key)).ToList();
            if (id == Ops.GetOpenApiDocument)
            {
                Assert.Empty(schemes);
                Assert.Equal("Anonymous", authLevels[id], ignoreCase: true);
            }
            else
            {
                Assert.True(schemes.SequenceEqual([TagStatusOpenApiDocument.SecuritySchemeName]), $"{method.ToUpperInvariant()} {path} must require the function key.");
                Assert.Equal("Function", authLevels[id], ignoreCase: true);
            }
        }

        Assert.Null(_served.Raw["security"]);
    }

    [Theory]
    [InlineData("/tags/{tag}/recipients", "get")]
    [InlineData("/tags", "get")]
    public void List_routes_are_pageable_through_nextLink_over_a_root_value_array(string path, string method)
    {
        var operation = _served.Operation(path, method);
        Assert.Equal("nextLink", ServedDocument.Text(operation["x-ms-pageable"]?["nextLinkName"]));
        var schema = Resolve(operation["responses"]!["200"]!["schema"]!);
        Assert.NotNull(schema["properties"]!["nextLink"]);
        Assert.Equal("array", ServedDocument.Text(schema["properties"]!["value"]!["type"]));
    }

    [Fact]
    public void Only_the_two_list_routes_are_pageable_and_GetTag_whose_items_are_not_at_the_root_is_not()
    {
        var pageable = _served.Operations().Where(o => o.Operation["x-ms-pageable"] is not null).Select(o => ServedDocument.Text(o.Operation["operationId"]));
        Assert.Equal([Ops.GetTagRecipients, Ops.ListTags], pageable.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Subscription_is_a_single_webhook_trigger_whose_body_carries_the_notification_url()
    {
        var item = _served.Raw["paths"]!["/tags/{tag}/subscriptions"]!.AsObject();
        var subscribe = item["post"]!.AsObject();
        Assert.Equal("single", ServedDocument.Text(subscribe["x-ms-trigger"]));

        var body = Assert.Single(subscribe["parameters"]!.AsArray(), p => ServedDocument.Text(p!["in"]) == "body")!;
        var callbackUrl = Resolve(body["schema"]!)["properties"]!["callbackUrl"]!;
        Assert.True(callbackUrl["x-ms-notification-url"]!.GetValue<bool>());
        Assert.Equal("internal", ServedDocument.Text(callbackUrl["x-ms-visibility"]));

        var created = subscribe["responses"]!["201"]!;
        Assert.NotNull(created["headers"]!["Location"]);

        var notification = item["x-ms-notification-content"]!;
        var eventSchema = Resolve(notification["schema"]!);
        Assert.Equal(
            ["data", "id", "occurredAt", "tag", "type"],
            eventSchema["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Unsubscribe_is_hidden_and_sits_at_the_location_subscribing_returns()
    {
        var unsubscribe = _served.Operation("/tags/{tag}/subscriptions/{id}", "delete");
        Assert.Equal("internal", ServedDocument.Text(unsubscribe["x-ms-visibility"]));
        Assert.NotNull(unsubscribe["responses"]!["204"]);
    }

    [Fact]
    public void Async_pattern_operations_declare_202_with_location_and_retry_after()
    {
        foreach (var (path, method) in new[] { ("/tags", "post"), ("/tags/{tag}/completion", "get") })
        {
            var accepted = _served.Operation(path, method)["responses"]!["202"]!;
            Assert.NotNull(accepted["headers"]!["Location"]);
            Assert.Equal("integer", ServedDocument.Text(accepted["headers"]!["Retry-After"]!["type"]));
        }

        Assert.NotNull(_served.Operation("/tags/{tag}/completion", "get")["responses"]!["200"]);
    }

    [Fact]
    public void Every_parameter_has_a_title_and_paging_and_freshness_are_advanced()
    {
        foreach (var (path, method, operation) in _served.Operations())
        {
            foreach (var parameter in operation["parameters"]?.AsArray() ?? [])
            {
                if (ServedDocument.Text(parameter!["in"]) == "body")
                {
                    continue;
                }

                Assert.False(string.IsNullOrWhiteSpace(ServedDocument.Text(parameter["x-ms-summary"])), $"{method} {path}: parameter {parameter["name"]} has no x-ms-summary.");
            }
        }

        var getTag = _served.Operation("/tags/{tag}", "get")["parameters"]!.AsArray();
        foreach (var name in new[] { "pageSize", "maxAge" })
        {
            var parameter = getTag.Single(p => ServedDocument.Text(p!["name"]) == name)!;
            Assert.Equal("advanced", ServedDocument.Text(parameter["x-ms-visibility"]));
        }
    }

    [Fact]
    public void Every_operation_has_a_summary_a_description_and_documented_errors()
    {
        foreach (var (path, method, operation) in _served.Operations())
        {
            Assert.False(string.IsNullOrWhiteSpace(ServedDocument.Text(operation["summary"])), $"{method} {path}: no summary.");
            Assert.False(string.IsNullOrWhiteSpace(ServedDocument.Text(operation["description"])), $"{method} {path}: no description.");
            foreach (var (status, response) in operation["responses"]!.AsObject())
            {
                if (status.StartsWith('4') && status != "401" || status.StartsWith('5'))
                {
                    Assert.Equal("#/definitions/Problem", ServedDocument.Text(response!["schema"]?["$ref"]));
                }
            }
        }
    }

    [Fact]
    public void Problem_schema_carries_the_upstream_code()
    {
        var problem = _served.Definition(TagStatusOpenApiDocument.Schemas.Problem);
        Assert.Equal("integer", ServedDocument.Text(problem["properties"]!["upstreamCode"]!["type"]));
        Assert.Equal(
            ["detail", "status", "title", "type"],
            problem["required"]!.AsArray().Select(n => n!.GetValue<string>()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Event_types_are_the_ones_the_service_sends_reopened_and_opted_out_included()
    {
        var type = _served.Definition(TagStatusOpenApiDocument.Schemas.TagEvent)["properties"]!["type"]!;

        Assert.Equal(Core.Callbacks.TagEvent.Types, type["enum"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Contains("tag.reopened", Core.Callbacks.TagEvent.Types);
        Assert.Contains("recipient.optedOut", Core.Callbacks.TagEvent.Types);
    }

    [Theory]
    [InlineData(TagStatusOpenApiDocument.Schemas.TagSummary)]
    [InlineData(TagStatusOpenApiDocument.Schemas.TagDetail)]
    public void A_summary_shows_the_read_against_what_was_announced(string schemaName)
    {
        var schema = _served.Definition(schemaName);
        var properties = schema["properties"]!;
        var required = schema["required"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();

        Assert.Equal("integer", ServedDocument.Text(properties["upstreamTotal"]!["type"]));
        Assert.True(properties["upstreamTotal"]!["x-nullable"]!.GetValue<bool>());
        Assert.Equal("boolean", ServedDocument.Text(properties["partial"]!["type"]));
        Assert.Equal("string", ServedDocument.Text(properties["partialReason"]!["type"]));
        Assert.True(properties["partialReason"]!["x-nullable"]!.GetValue<bool>());
        Assert.Contains("upstreamTotal", required);
        Assert.Contains("partial", required);
        Assert.Contains("partialReason", required);
    }

    [Fact]
    public void Host_and_scheme_are_the_ones_given()
    {
        var local = ServedDocument.For("http", "localhost:7071");
        Assert.Equal("localhost:7071", ServedDocument.Text(local.Raw["host"]));
        Assert.Equal(["http"], local.Raw["schemes"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Empty(local.Diagnostic.Errors);
    }

    private JsonObject Resolve(JsonNode schema) =>
        ServedDocument.Text(schema["$ref"]) is { } reference
            ? _served.Definition(reference["#/definitions/".Length..])
            : schema.AsObject();

    private static OperationType ToOperationType(string method) => Enum.Parse<OperationType>(method, ignoreCase: true);
}
