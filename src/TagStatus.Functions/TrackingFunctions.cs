using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using TagStatus.Api.Handlers;

namespace TagStatus.Functions;

/// <summary>Binds <c>POST /api/tags</c> to its handler.</summary>
public sealed class RegisterTagFunction(TrackingHandler handler)
{
    [Function("RegisterTag")]
    public Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "tags")] HttpRequest request,
        CancellationToken cancellationToken) =>
        handler.RegisterAsync(request, cancellationToken);
}

/// <summary>Binds <c>GET /api/tags</c> to its handler.</summary>
public sealed class ListTagsFunction(TrackingHandler handler)
{
    [Function("ListTags")]
    public Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "tags")] HttpRequest request,
        CancellationToken cancellationToken) =>
        handler.ListAsync(request, cancellationToken);
}

/// <summary>Binds <c>DELETE /api/tags/{tag}</c> to its handler.</summary>
public sealed class UntrackTagFunction(TrackingHandler handler)
{
    [Function("UntrackTag")]
    public Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "tags/{tag}")] HttpRequest request,
        string tag,
        CancellationToken cancellationToken) =>
        handler.UntrackAsync(tag, cancellationToken);
}

/// <summary>Binds <c>GET /api/tags/{tag}/completion</c> to its handler.</summary>
public sealed class GetTagCompletionFunction(TrackingHandler handler)
{
    [Function("GetTagCompletion")]
    public Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "tags/{tag}/completion")] HttpRequest request,
        string tag,
        CancellationToken cancellationToken) =>
        handler.CompletionAsync(request, tag, cancellationToken);
}
