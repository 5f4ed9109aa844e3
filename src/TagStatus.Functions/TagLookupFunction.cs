using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using TagStatus.Api.Handlers;

namespace TagStatus.Functions;

/// <summary>Binds <c>GET /api/tags/{tag}</c> to its handler.</summary>
public sealed class TagLookupFunction(TagLookupHandler handler)
{
    [Function("GetTag")]
    public Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "tags/{tag}")] HttpRequest request,
        string tag,
        CancellationToken cancellationToken) =>
        handler.GetAsync(request, tag, cancellationToken);
}
