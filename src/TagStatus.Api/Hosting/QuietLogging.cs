using Microsoft.Extensions.Logging;

namespace TagStatus.Api.Hosting;

/// <summary>
/// The log filters both hosts apply (the Functions worker and the LocalHost), so that a lookup or a queue message costs a
/// few lines of our own and not one per storage, Key Vault or SMS Partner request.
/// </summary>
public static class QuietLogging
{
    /// <summary>
    /// Categories held at Warning by default. <c>Azure</c> covers every Azure SDK event source that
    /// <c>Microsoft.Extensions.Azure</c> forwards (<c>Azure.Core</c>, <c>Azure.Identity</c>, <c>Azure.Data.Tables</c>, ...):
    /// one Information line per request would make Application Insights ingestion grow with traffic. The ASP.NET Core
    /// hosting diagnostics log request URLs, which may carry the function key in <c>?code=</c>.
    /// </summary>
    public static readonly IReadOnlyList<string> WarningOnlyCategories =
    [
        "Azure",
        "System.Net.Http.HttpClient",
        "Polly",
        "Microsoft.AspNetCore.Hosting.Diagnostics",
        "Microsoft.AspNetCore.Routing",
    ];

    /// <summary>
    /// Adds the filters as defaults: a <c>Logging:LogLevel:Azure.Core</c> setting (or any more specific category) still wins,
    /// so an operator can turn request logs on to diagnose storage without a redeployment.
    /// </summary>
    public static ILoggingBuilder AddQuietAzureSdkLogs(this ILoggingBuilder logging)
    {
        foreach (var category in WarningOnlyCategories)
        {
            logging.AddFilter(category, LogLevel.Warning);
        }

        return logging;
    }
}
