using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using TagStatus.Api.Http;

namespace TagStatus.Api.Handlers;

/// <summary><c>GET /api/openapi.json</c>: the OpenAPI 2.0 document of the API. (Placeholder until the OpenAPI work lands.)</summary>
public sealed class OpenApiHandler
{
    public IActionResult Get(HttpRequest request) =>
        ApiResults.Problem(501, "not-implemented", "Not implemented yet.", "The OpenAPI document is not written yet.");
}
