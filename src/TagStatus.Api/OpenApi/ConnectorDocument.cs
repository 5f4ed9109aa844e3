using Microsoft.OpenApi;
using Microsoft.OpenApi.Extensions;
using Microsoft.OpenApi.Models;
using Ops = TagStatus.Api.OpenApi.TagStatusOpenApiDocument.Operations;

namespace TagStatus.Api.OpenApi;

/// <summary>
/// The custom connector's <c>apiDefinition.swagger.json</c>: the served document, less what a connector cannot use.
/// This is the one place where the two differ; a test keeps <c>connector/apiDefinition.swagger.json</c> equal to it.
/// </summary>
public static class ConnectorDocument
{
    /// <summary>A placeholder: the maker sets the app's host name when importing the connector.</summary>
    public const string Host = "your-app.azurewebsites.net";

    /// <summary>
    /// What makers use. Left out: operators' routes (dead letters, health, secret rotation) and the document itself.
    /// </summary>
    public static IReadOnlySet<string> OperationIds { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        Ops.GetTag, Ops.GetTagRecipients, Ops.RegisterTag, Ops.ListTags, Ops.UntrackTag, Ops.GetTagCompletion,
        Ops.SubscribeToTag, Ops.UnsubscribeFromTag, Ops.SubscribeToAnyTag, Ops.UnsubscribeFromAnyTag,
    };

    private const string CsvMediaType = "text/csv";

    public static OpenApiDocument Build()
    {
        var document = TagStatusOpenApiDocument.Build("https", Host);
        foreach (var (path, item) in document.Paths.ToList())
        {
            foreach (var (method, operation) in item.Operations.ToList())
            {
                if (!OperationIds.Contains(operation.OperationId))
                {
                    item.Operations.Remove(method);
                }
            }

            if (item.Operations.Count == 0)
            {
                document.Paths.Remove(path);
            }
        }

        // A connector sends no Accept or If-None-Match header: CSV and 304 cannot be reached through it.
        var getTag = document.Paths["/tags/{tag}"].Operations[OperationType.Get];
        getTag.Responses["200"].Content.Remove(CsvMediaType);
        getTag.Responses["200"].Headers.Remove("ETag");
        getTag.Responses.Remove("304");
        getTag.Description =
            "The status of every message sent under the tag, read from storage when fresh enough (see Max age) or from SMS Partner. "
            + "Counts always cover the whole tag; the recipients are filtered by Status and paged through nextLink. "
            + "A big tag not read yet answers 202 with Location: the connector polls it until the tag is ready.";
        return document;
    }

    /// <summary>The file's text, as committed: Swagger 2.0, indented, with a final newline.</summary>
    public static string Serialize() => Build().SerializeAsJson(OpenApiSpecVersion.OpenApi2_0).ReplaceLineEndings("\n") + "\n";
}
