using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using TagStatus.Api.Handlers;

namespace TagStatus.Functions;

/// <summary>Binds <c>GET /api/tags/{tag}</c> and <c>GET /api/tags/{tag}/recipients</c> to their handler.</summary>
public sealed class TagLookupFunction(TagLookupHandler handler)
{
    [Function("GetTag")]
    public Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "tags/{tag}")] HttpRequest request,
        string tag,
        CancellationToken cancellationToken) =>
        handler.GetAsync(request, tag, cancellationToken);

    [Function("GetTagRecipients")]
    public Task<IActionResult> RecipientsAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "tags/{tag}/recipients")] HttpRequest request,
        string tag,
        CancellationToken cancellationToken) =>
        handler.GetRecipientsAsync(request, tag, cancellationToken);
}
