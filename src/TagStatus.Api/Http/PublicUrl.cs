using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace TagStatus.Api.Http;

/// <summary>Section <c>Api</c>: how the app learns the address its callers used.</summary>
public sealed class PublicUrlOptions
{
    public const string SectionName = "Api";

    /// <summary>
    /// Take the scheme and host from <c>X-Forwarded-Proto</c> and <c>X-Forwarded-Host</c>. Only behind a front end that
    /// sets them itself (Azure's does, terminating TLS): otherwise any caller could make the app hand out links to
    /// another host.
    /// </summary>
    public bool TrustForwardedHeaders { get; set; }
}

/// <summary>The scheme, host and path base callers reach the app at.</summary>
public sealed record PublicUrl(string Scheme, string Host, string PathBase)
{
    /// <summary><c>scheme://host[:port][/pathBase]</c>, without a trailing slash.</summary>
    public string Base => $"{Scheme}://{Host}{PathBase}";

    /// <summary>
    /// Every absolute link the API writes (Location, nextLink, the OpenAPI document's host) starts here, so that behind
    /// TLS termination none comes out <c>http://</c> and carries a key in clear.
    /// </summary>
    public static PublicUrl Of(HttpRequest request)
    {
        var scheme = request.Scheme;
        var host = request.Host.HasValue ? request.Host.ToUriComponent() : "localhost";
        var trusted = request.HttpContext.RequestServices?.GetService<IOptions<PublicUrlOptions>>()?.Value.TrustForwardedHeaders == true;
        if (trusted)
        {
            // Raised to https, never lowered: a link that reached us over TLS stays on TLS.
            if (First(request, "X-Forwarded-Proto") == "https")
            {
                scheme = "https";
            }

            // Only a bare host[:port]: anything with a path, user info or query is not a host and is ignored.
            if (First(request, "X-Forwarded-Host") is { Length: > 0 } forwarded
                && Uri.TryCreate("https://" + forwarded, UriKind.Absolute, out var parsed)
                && parsed.PathAndQuery == "/" && parsed.UserInfo.Length == 0 && parsed.Fragment.Length == 0)
            {
                host = parsed.IsDefaultPort ? parsed.Host : parsed.Authority;
            }
        }

        return new PublicUrl(scheme, host, request.PathBase.ToUriComponent());
    }

    private static string? First(HttpRequest request, string header) =>
        request.Headers[header].FirstOrDefault()?.Split(',')[0].Trim().ToLowerInvariant() is { Length: > 0 } value ? value : null;
}
