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
        var (scheme, host, _) = PublicUrl.Of(request);
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
            [HeaderNames.Vary] = "Host, X-Forwarded-Proto, X-Forwarded-Host",
            // This route only: the Logic Apps designer in the portal fetches the document from the browser. It is public
            // and anonymous, and no credentials go with it, so any origin may read it. (Platform CORS would cover every
            // route, keys included: it stays off.)
            [HeaderNames.AccessControlAllowOrigin] = "*",
        });
    }
}
