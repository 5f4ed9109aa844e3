using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using TagStatus.Api.Handlers;

namespace TagStatus.Functions;

/// <summary>Binds <c>GET /api/openapi.json</c> (anonymous: connector import needs it) to its handler.</summary>
public sealed class OpenApiFunction(OpenApiHandler handler)
{
    [Function("GetOpenApiDocument")]
    public IActionResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "openapi.json")] HttpRequest request) =>
        handler.Get(request);
}
