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

/// <summary>Binds <c>POST /api/tags/{tag}/subscriptions/{id}/rotate-secret</c> to its handler.</summary>
public sealed class RotateTagSubscriptionSecretFunction(SubscriptionHandler handler)
{
    [Function("RotateTagSubscriptionSecret")]
    public Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "tags/{tag}/subscriptions/{id}/rotate-secret")] HttpRequest request,
        string tag,
        string id,
        CancellationToken cancellationToken) =>
        handler.RotateSecretAsync(tag, id, cancellationToken);
}

/// <summary>Binds <c>POST /api/subscriptions</c> (any tag) to its handler.</summary>
public sealed class SubscribeToAnyTagFunction(SubscriptionHandler handler)
{
    [Function("SubscribeToAnyTag")]
    public Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "subscriptions")] HttpRequest request,
        CancellationToken cancellationToken) =>
        handler.SubscribeToAnyTagAsync(request, cancellationToken);
}

/// <summary>Binds <c>DELETE /api/subscriptions/{id}</c> to its handler.</summary>
public sealed class UnsubscribeFromAnyTagFunction(SubscriptionHandler handler)
{
    [Function("UnsubscribeFromAnyTag")]
    public Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "subscriptions/{id}")] HttpRequest request,
        string id,
        CancellationToken cancellationToken) =>
        handler.UnsubscribeAsync(null, id, cancellationToken);
}

/// <summary>Binds <c>POST /api/subscriptions/{id}/rotate-secret</c> to its handler.</summary>
public sealed class RotateAnyTagSubscriptionSecretFunction(SubscriptionHandler handler)
{
    [Function("RotateAnyTagSubscriptionSecret")]
    public Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "subscriptions/{id}/rotate-secret")] HttpRequest request,
        string id,
        CancellationToken cancellationToken) =>
        handler.RotateSecretAsync(null, id, cancellationToken);
}
