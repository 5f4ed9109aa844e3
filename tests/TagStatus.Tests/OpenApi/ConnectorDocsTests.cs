using System.Text.Json.Nodes;
using Ops = TagStatus.Api.OpenApi.TagStatusOpenApiDocument.Operations;

namespace TagStatus.Tests.OpenApi;

/// <summary>The sample workflow and flow in docs/ parse and still use the API as it is, so they cannot silently rot.</summary>
public sealed class ConnectorDocsTests
{
    private const string WorkflowSchema = "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#";

    [Fact]
    public void Logic_apps_workflow_registers_the_tag_through_the_async_pattern_then_branches_on_delivery_rate()
    {
        var definition = Load("logic-apps-async-workflow.json");
        Assert.Equal(WorkflowSchema, ServedDocument.Text(definition["$schema"]));

        var actions = definition["actions"]!.AsObject();
        var (httpName, http) = Assert.Single(actions, a => ServedDocument.Text(a.Value!["type"]) == "Http");
        var inputs = http!["inputs"]!;
        Assert.Equal("POST", ServedDocument.Text(inputs["method"]), ignoreCase: true);
        Assert.EndsWith("/api/tags", ServedDocument.Text(inputs["uri"]), StringComparison.Ordinal);
        Assert.NotNull(inputs["body"]!["tag"]);
        Assert.DoesNotContain("DisableAsyncPattern", ServedDocument.Text(http["operationOptions"]) ?? string.Empty, StringComparison.OrdinalIgnoreCase);
        Assert.NotNull(inputs["queries"]?["code"]);

        var (_, condition) = Assert.Single(actions, a => ServedDocument.Text(a.Value!["type"]) == "If");
        Assert.NotNull(condition!["runAfter"]![httpName]);
        var expression = string.Join(' ', Descendants(condition["expression"]!).Select(ServedDocument.Text).OfType<string>());
        Assert.Contains("deliveryRate", expression, StringComparison.Ordinal);
        Assert.Contains($"body('{httpName}')", expression, StringComparison.Ordinal);
        Assert.NotEmpty(condition["actions"]!.AsObject());
        Assert.NotEmpty(condition["else"]!["actions"]!.AsObject());
    }

    [Fact]
    public void Logic_apps_workflow_is_triggered_for_any_tag_by_settlements_and_pages_the_recipients()
    {
        var definition = Load("logic-apps-workflow.json");
        Assert.Equal(WorkflowSchema, ServedDocument.Text(definition["$schema"]));
        var connector = ServedDocument.Parse(TagStatus.Api.OpenApi.ConnectorDocument.Serialize());

        var (_, trigger) = Assert.Single(definition["triggers"]!.AsObject());
        Assert.Equal("ApiConnectionWebhook", ServedDocument.Text(trigger!["type"]));
        var inputs = trigger["inputs"]!;
        Assert.Equal("post", ServedDocument.Text(inputs["method"]));
        Assert.Equal(Ops.SubscribeToAnyTag, OperationAt(connector, ServedDocument.Text(inputs["path"])!, "post"));
        Assert.Equal("@{listCallbackUrl()}", ServedDocument.Text(inputs["body"]!["callbackUrl"]));
        Assert.Equal(["tag.completed", "tag.expired"], inputs["body"]!["events"]!.AsArray().Select(ServedDocument.Text).ToList());

        var actions = definition["actions"]!.AsObject();
        var (listName, list) = Assert.Single(actions, a => ServedDocument.Text(a.Value!["type"]) == "ApiConnection");
        Assert.Equal(Ops.GetTagRecipients, OperationAt(connector, ServedDocument.Text(list!["inputs"]!["path"])!, ServedDocument.Text(list["inputs"]!["method"])!));
        Assert.NotNull(list["runtimeConfiguration"]!["paginationPolicy"]!["minimumItemCount"]);

        var (_, condition) = Assert.Single(actions, a => ServedDocument.Text(a.Value!["type"]) == "If");
        Assert.NotNull(condition!["runAfter"]![listName]);
        var used = string.Join(' ', Descendants(condition).Select(ServedDocument.Text).OfType<string>());
        Assert.Contains("['counts']?['delivered']", used, StringComparison.Ordinal);
        Assert.Contains($"body('{listName}')?['value']", used, StringComparison.Ordinal);
    }

    /// <summary>The operationId a workflow's connector path (expressions in place of parameters) and method reach.</summary>
    private static string? OperationAt(ServedDocument connector, string path, string method)
    {
        var pattern = "^" + System.Text.RegularExpressions.Regex.Replace(path, @"@\{[^}]*\}", "{x}").Replace("{x}", "[^/]+") + "$";
        var matches = connector.Operations()
            .Where(o => o.Method == method.ToLowerInvariant()
                && System.Text.RegularExpressions.Regex.IsMatch(System.Text.RegularExpressions.Regex.Replace(o.Path, @"\{[^}]*\}", "p"), pattern))
            .Select(o => ServedDocument.Text(o.Operation["operationId"]))
            .ToList();
        return Assert.Single(matches);
    }

    [Fact]
    public void Power_automate_flow_is_triggered_for_any_tag_by_settlements_only()
    {
        var definition = Load("power-automate-flow.json")["properties"]!["definition"]!.AsObject();
        Assert.Equal(WorkflowSchema, ServedDocument.Text(definition["$schema"]));

        var (_, trigger) = Assert.Single(definition["triggers"]!.AsObject());
        Assert.Equal("OpenApiConnectionWebhook", ServedDocument.Text(trigger!["type"]));
        Assert.Equal(Ops.SubscribeToAnyTag, ServedDocument.Text(trigger["inputs"]!["host"]!["operationId"]));
        var parameters = trigger["inputs"]!["parameters"]!.AsObject();
        Assert.False(parameters.ContainsKey("tag"), "The any-tag trigger takes no tag fixed at design time.");
        var events = parameters["body/events"]!.AsArray().Select(ServedDocument.Text).ToList();
        Assert.Equal(["tag.completed", "tag.expired"], events);

        // The filter is one the connector's trigger accepts.
        var connector = ServedDocument.Parse(TagStatus.Api.OpenApi.ConnectorDocument.Serialize());
        var allowed = connector.Definition(TagStatus.Api.OpenApi.TagStatusOpenApiDocument.Schemas.AnyTagSubscribeRequest)["properties"]!["events"]!["items"]!["enum"]!
            .AsArray().Select(ServedDocument.Text).ToList();
        Assert.All(events, e => Assert.Contains(e, allowed));
    }

    [Fact]
    public void Connector_operations_the_flow_uses_exist_in_the_document()
    {
        var served = ServedDocument.Parse(TagStatus.Api.OpenApi.ConnectorDocument.Serialize());
        var ids = served.Operations().Select(o => ServedDocument.Text(o.Operation["operationId"])).ToHashSet();
        var flow = Load("power-automate-flow.json");
        var used = string.Join(' ', Descendants(flow).Select(ServedDocument.Text).OfType<string>());
        foreach (var node in Descendants(flow).OfType<JsonObject>().Where(o => o.ContainsKey("operationId")))
        {
            Assert.Contains(ServedDocument.Text(node["operationId"]), ids);
        }

        Assert.Contains("deliveryRate", used, StringComparison.Ordinal);
    }

    private static JsonObject Load(string name)
    {
        var path = RepoFiles.PathOf("docs", name);
        Assert.True(File.Exists(path), $"{path} is missing.");
        return JsonNode.Parse(File.ReadAllText(path))!.AsObject();
    }

    private static IEnumerable<JsonNode> Descendants(JsonNode node)
    {
        yield return node;
        var children = node switch
        {
            JsonObject obj => obj.Select(p => p.Value),
            JsonArray array => array.AsEnumerable(),
            _ => [],
        };
        foreach (var child in children.OfType<JsonNode>())
        {
            foreach (var descendant in Descendants(child))
            {
                yield return descendant;
            }
        }
    }
}
