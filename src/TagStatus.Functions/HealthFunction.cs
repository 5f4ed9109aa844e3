using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using TagStatus.Api.Handlers;

namespace TagStatus.Functions;

/// <summary>Binds <c>GET /api/health</c> (function key: queue names and backlog are not for the public) to its handler.</summary>
public sealed class HealthFunction(HealthHandler handler)
{
    [Function("GetHealth")]
    public Task<IActionResult> Run([HttpTrigger(AuthorizationLevel.Function, "get", Route = "health")] HttpRequest request) =>
        handler.GetAsync(request.HttpContext.RequestAborted);
}
