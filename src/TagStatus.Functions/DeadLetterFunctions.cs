using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using TagStatus.Api.Handlers;

namespace TagStatus.Functions;

/// <summary>Binds <c>GET /api/deadletters</c> to its handler.</summary>
public sealed class ListDeadLettersFunction(DeadLetterHandler handler)
{
    [Function("ListDeadLetters")]
    public Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "deadletters")] HttpRequest request,
        CancellationToken cancellationToken) =>
        handler.ListAsync(request, cancellationToken);
}

/// <summary>Binds <c>POST /api/deadletters/{id}/replay</c> to its handler.</summary>
public sealed class ReplayDeadLetterFunction(DeadLetterHandler handler)
{
    [Function("ReplayDeadLetter")]
    public Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "deadletters/{id}/replay")] HttpRequest request,
        string id,
        CancellationToken cancellationToken) =>
        handler.ReplayAsync(id, cancellationToken);
}

/// <summary>Binds <c>DELETE /api/deadletters/{id}</c> to its handler.</summary>
public sealed class DeleteDeadLetterFunction(DeadLetterHandler handler)
{
    [Function("DeleteDeadLetter")]
    public Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "deadletters/{id}")] HttpRequest request,
        string id,
        CancellationToken cancellationToken) =>
        handler.DeleteAsync(id, cancellationToken);
}
