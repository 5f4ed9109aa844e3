using System.Text.Json.Nodes;
using TagStatus.Api.OpenApi;
using Ops = TagStatus.Api.OpenApi.TagStatusOpenApiDocument.Operations;

namespace TagStatus.Tests.OpenApi;

/// <summary>
/// The shipped custom connector (<c>connector/</c>) matches the app. To regenerate <c>apiDefinition.swagger.json</c>
/// after changing the API, run these tests once with <c>TAGSTATUS_UPDATE_CONNECTOR=1</c> and commit the file.
/// </summary>
public sealed class ConnectorFilesTests
{
    private const string UpdateVariable = "TAGSTATUS_UPDATE_CONNECTOR";

    private static string DefinitionPath => RepoFiles.PathOf("connector", "apiDefinition.swagger.json");

    [Fact]
    public void Shipped_api_definition_is_the_generated_connector_document()
    {
        var generated = ConnectorDocument.Serialize();
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            File.WriteAllText(DefinitionPath, generated);
        }

        Assert.True(File.Exists(DefinitionPath), $"{DefinitionPath} is missing: run the tests with {UpdateVariable}=1.");
        var shipped = File.ReadAllText(DefinitionPath).ReplaceLineEndings("\n");
        Assert.True(generated == shipped, $"connector/apiDefinition.swagger.json differs from the app's document: run the tests with {UpdateVariable}=1 and commit it.");
    }

    [Fact]
    public void Connector_document_keeps_only_maker_operations_and_no_csv()
    {
        var connector = ServedDocument.Parse(ConnectorDocument.Serialize());
        Assert.Empty(connector.Diagnostic.Errors);
        var ids = connector.Operations().Select(o => ServedDocument.Text(o.Operation["operationId"])).ToHashSet();
        Assert.Equal(ConnectorDocument.OperationIds.Order(), ids.OfType<string>().Order());
        Assert.DoesNotContain("text/csv", connector.Json, StringComparison.Ordinal);
        Assert.DoesNotContain("CSV", connector.Json, StringComparison.Ordinal);
        Assert.DoesNotContain("If-None-Match", connector.Json, StringComparison.Ordinal);
        Assert.Equal(ConnectorDocument.Host, ServedDocument.Text(connector.Raw["host"]));
    }

    [Fact]
    public void Any_tag_trigger_is_when_a_campaign_settles_with_an_event_filter()
    {
        var connector = ServedDocument.Parse(ConnectorDocument.Serialize());
        var (_, _, trigger) = Assert.Single(connector.Operations(), o => ServedDocument.Text(o.Operation["operationId"]) == Ops.SubscribeToAnyTag);
        Assert.Equal("When a campaign settles", ServedDocument.Text(trigger["summary"]));
        Assert.Equal("single", ServedDocument.Text(trigger[ConnectorExtensions.Trigger]));
        var body = trigger["parameters"]!.AsArray().Single(p => ServedDocument.Text(p!["in"]) == "body")!;
        var request = connector.Definition(ServedDocument.Text(body["schema"]!["$ref"])!.Split('/')[^1]);
        var events = request["properties"]!["events"]!;
        Assert.Equal("array", ServedDocument.Text(events["type"]));
        Assert.Contains("tag.completed", events["items"]!["enum"]!.AsArray().Select(ServedDocument.Text));
    }

    [Fact]
    public void Tag_parameter_is_a_dropdown_fed_by_ListTags_and_continuation_token_is_advanced()
    {
        var connector = ServedDocument.Parse(ConnectorDocument.Serialize());
        foreach (var (path, method, operation) in connector.Operations())
        {
            foreach (var parameter in operation["parameters"]?.AsArray() ?? [])
            {
                if (ServedDocument.Text(parameter!["name"]) == "tag" && ServedDocument.Text(parameter["in"]) == "path")
                {
                    var dynamicValues = parameter[ConnectorExtensions.DynamicValues];
                    Assert.True(dynamicValues is not null, $"{method} {path}: tag has no dropdown");
                    Assert.Equal(Ops.ListTags, ServedDocument.Text(dynamicValues!["operationId"]));
                    Assert.Equal("value", ServedDocument.Text(dynamicValues["value-collection"]));
                    Assert.Equal("tag", ServedDocument.Text(dynamicValues["value-path"]));
                }

                if (ServedDocument.Text(parameter["name"]) == "continuationToken")
                {
                    Assert.Equal(ConnectorExtensions.Advanced, ServedDocument.Text(parameter[ConnectorExtensions.Visibility]));
                }
            }
        }

        var tagList = connector.Definition(TagStatusOpenApiDocument.Schemas.TagList);
        Assert.NotNull(tagList["properties"]!["value"]!["items"]!["$ref"]);
        Assert.NotNull(connector.Definition(TagStatusOpenApiDocument.Schemas.TagSummary)["properties"]!["tag"]);
    }

    [Fact]
    public void Counts_carry_their_title_and_the_title_of_each_count()
    {
        var connector = ServedDocument.Parse(ConnectorDocument.Serialize());
        foreach (var schema in new[] { TagStatusOpenApiDocument.Schemas.TagSummary, TagStatusOpenApiDocument.Schemas.TagDetail })
        {
            var counts = connector.Definition(schema)["properties"]!["counts"]!.AsObject();
            Assert.False(counts.ContainsKey("$ref"), $"{schema}.counts is a $ref: the designer would drop its title");
            Assert.Equal("Counts", ServedDocument.Text(counts[ConnectorExtensions.Summary]));
            Assert.Equal("Delivered", ServedDocument.Text(counts["properties"]!["delivered"]![ConnectorExtensions.Summary]));
        }
    }

    [Fact]
    public void Api_properties_declare_the_function_key_as_a_secret_and_page_every_pageable_operation_through_the_connector()
    {
        var properties = JsonNode.Parse(File.ReadAllText(RepoFiles.PathOf("connector", "apiProperties.json")))!["properties"]!;
        var key = Assert.Single(properties["connectionParameters"]!.AsObject());
        Assert.Equal("securestring", ServedDocument.Text(key.Value!["type"]));
        Assert.Equal("Function key", ServedDocument.Text(key.Value["uiDefinition"]!["displayName"]));

        var policy = Assert.Single(properties["policyTemplateInstances"]!.AsArray(), p => ServedDocument.Text(p!["templateId"]) == "updatenextlink")!;
        var paged = policy["parameters"]!["x-ms-apimTemplate-operationName"]!.AsArray().Select(ServedDocument.Text).ToHashSet();
        var connector = ServedDocument.Parse(ConnectorDocument.Serialize());
        var pageable = connector.Operations().Where(o => o.Operation.ContainsKey(ConnectorExtensions.Pageable))
            .Select(o => ServedDocument.Text(o.Operation["operationId"])).ToHashSet();
        Assert.NotEmpty(pageable);
        Assert.Equal(pageable, paged);
        Assert.Equal("nextLink", ServedDocument.Text(policy["parameters"]!["x-ms-apimTemplateParameter.nextLinkPropertyName"]));
    }
}
