using Microsoft.OpenApi.Any;
using Microsoft.OpenApi.Interfaces;

namespace TagStatus.Api.OpenApi;

/// <summary>
/// The OpenAPI extensions Power Automate and Logic Apps custom connectors read
/// (learn.microsoft.com/connectors/custom-connectors/openapi-extensions), as constants and small setters, so the
/// document builder reads as what it declares.
/// </summary>
public static class ConnectorExtensions
{
    /// <summary>Title of a parameter or a schema property in the designer (title case).</summary>
    public const string Summary = "x-ms-summary";

    /// <summary><c>important</c>, <c>advanced</c> (behind "Show advanced options") or <c>internal</c> (hidden).</summary>
    public const string Visibility = "x-ms-visibility";

    /// <summary><c>single</c> on the operation that registers a webhook: it becomes a trigger.</summary>
    public const string Trigger = "x-ms-trigger";

    /// <summary>A hint shown under a trigger on how to make it fire.</summary>
    public const string TriggerHint = "x-ms-trigger-hint";

    /// <summary>On the path item of the trigger: the schema of what the webhook POSTs back.</summary>
    public const string NotificationContent = "x-ms-notification-content";

    /// <summary><c>true</c> on the body property the platform fills with its callback URL.</summary>
    public const string NotificationUrl = "x-ms-notification-url";

    /// <summary>Paging: the platform follows <c>nextLinkName</c> when pagination is turned on.</summary>
    public const string Pageable = "x-ms-pageable";

    /// <summary>On a parameter: its values come from another operation (a dropdown in the designer).</summary>
    public const string DynamicValues = "x-ms-dynamic-values";

    /// <summary>Swagger 2.0 has no <c>nullable</c>; connectors read this instead.</summary>
    public const string Nullable = "x-nullable";

    /// <summary>The name OpenAPI.NET gives the body parameter when it writes a request body as Swagger 2.0.</summary>
    public const string BodyName = "x-bodyName";

    public const string Important = "important";
    public const string Advanced = "advanced";
    public const string Internal = "internal";

    public static T WithSummary<T>(this T element, string summary)
        where T : IOpenApiExtensible
    {
        element.Extensions[Summary] = new OpenApiString(summary);
        return element;
    }

    public static T WithVisibility<T>(this T element, string visibility)
        where T : IOpenApiExtensible
    {
        element.Extensions[Visibility] = new OpenApiString(visibility);
        return element;
    }
}
