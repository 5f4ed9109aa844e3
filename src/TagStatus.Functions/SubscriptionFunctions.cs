using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using TagStatus.Api.Handlers;

namespace TagStatus.Functions;

/// <summary>Binds <c>POST /api/tags/{tag}/subscriptions</c> to its handler.</summary>
public sealed class SubscribeToTagFunction(SubscriptionHandler handler)
{
    [Function("SubscribeToTag")]
    public Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "tags/{tag}/subscriptions")] HttpRequest request,
        string tag,
        CancellationToken cancellationToken) =>
        handler.SubscribeAsync(request, tag, cancellationToken);
}

/// <summary>Binds <c>DELETE /api/tags/{tag}/subscriptions/{id}</c> to its handler.</summary>
public sealed class UnsubscribeFromTagFunction(SubscriptionHandler handler)
{
    [Function("UnsubscribeFromTag")]
    public Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "tags/{tag}/subscriptions/{id}")] HttpRequest request,
        string tag,
        string id,
        CancellationToken cancellationToken) =>
        handler.UnsubscribeAsync(tag, id, cancellationToken);
}
