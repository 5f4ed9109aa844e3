using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Extensions;
using TagStatus.Api.Http;
using TagStatus.Api.OpenApi;

namespace TagStatus.Api.Handlers;

/// <summary>
/// <c>GET /api/openapi.json</c> (anonymous): the Swagger 2.0 document of the API, with host and scheme taken from the
/// request so that a document imported from a deployed app points at that app.
/// </summary>
public sealed class OpenApiHandler
{
    /// <summary>
    /// An app answers under a handful of names (its default host name, custom domains, localhost). The Host header is
    /// the caller's to choose, so the cache is bounded: past this, documents are still served, just not kept.
    /// </summary>
    internal const int MaxCachedHosts = 16;

    private readonly ConcurrentDictionary<string, byte[]> _documents = new(StringComparer.OrdinalIgnoreCase);

    public IActionResult Get(HttpRequest request)
    {
        var scheme = SchemeOf(request);
        var host = request.Host.HasValue ? request.Host.ToUriComponent() : "localhost";
        var key = scheme + "://" + host;
        if (!_documents.TryGetValue(key, out var body))
        {
            body = Encoding.UTF8.GetBytes(TagStatusOpenApiDocument.Build(scheme, host).SerializeAsJson(OpenApiSpecVersion.OpenApi2_0));
            if (_documents.Count < MaxCachedHosts)
            {
                _documents.TryAdd(key, body);
            }
        }

        return new BodyResult(StatusCodes.Status200OK, ApiResults.Json, body, new Dictionary<string, string>
        {
            [HeaderNames.CacheControl] = "public, max-age=3600",
            [HeaderNames.Vary] = HeaderNames.Host,
        });
    }

    /// <summary>
    /// The request's scheme, raised to https when a TLS-terminating front end says the caller used it
    /// (<c>X-Forwarded-Proto</c>), so a connector imported from Azure never targets plain http. Never lowered.
    /// </summary>
    private static string SchemeOf(HttpRequest request)
    {
        var forwarded = request.Headers["X-Forwarded-Proto"].FirstOrDefault();
        return string.Equals(forwarded?.Split(',')[0].Trim(), "https", StringComparison.OrdinalIgnoreCase) ? "https" : request.Scheme;
    }
}
