using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using TagStatus.Api.Contracts;
using TagStatus.Api.Http;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Storage;

namespace TagStatus.Api.Handlers;

/// <summary>
/// <c>GET /api/deadletters</c>, <c>POST /api/deadletters/{id}/replay</c> and <c>DELETE /api/deadletters/{id}</c>: the
/// events receivers refused as malformed or too large (400, 413) or never took (attempts ran out), for an operator to
/// look at, send again once the receiver is fixed, or forget.
/// </summary>
public sealed class DeadLetterHandler(DeadLetterService deadLetters)
{
    public async Task<IActionResult> ListAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!QueryReader.TryInt(request, "top", 1, 100, 50, out var top, out var error))
        {
            return ApiResults.BadRequest("top", error);
        }

        var token = request.Query["continuationToken"].ToString();
        try
        {
            var page = await deadLetters.ListAsync(token.Length == 0 ? null : token, top, cancellationToken).ConfigureAwait(false);
            var items = page.Items.Select(d => new DeadLetterDto(d.Id, d.Tag, d.EventId, d.EventType, d.SubscriptionId, d.CallbackTarget, d.Status, d.Attempts, d.DeadLetteredAt, d.Reason)).ToList();
            return ApiResults.Ok(new DeadLetterListResponse(items, page.ContinuationToken), ApiJsonContext.Api.DeadLetterListResponse);
        }
        catch (StoreUnavailableException)
        {
            return TrackingHandler.StorageUnavailable();
        }
        catch (Azure.RequestFailedException)
        {
            // The token is the storage service's own: one it cannot read is the caller's mistake.
            return ApiResults.BadRequest("continuationToken", "The continuationToken is not one this listing gave back.");
        }
    }

    public async Task<IActionResult> ReplayAsync(string id, CancellationToken cancellationToken)
    {
        if (!TableDeadLetterStore.IsId(id))
        {
            return BadId();
        }

        try
        {
            return await deadLetters.ReplayAsync(id, cancellationToken).ConfigureAwait(false)
                ? ApiResults.Empty(StatusCodes.Status202Accepted)
                : ApiResults.NotFound($"There is no dead letter '{id}'.");
        }
        catch (StoreUnavailableException)
        {
            return TrackingHandler.StorageUnavailable();
        }
    }

    /// <summary><c>DELETE /api/deadletters/{id}</c>: 204 whether or not it was still there, so a repeat never fails.</summary>
    public async Task<IActionResult> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        if (!TableDeadLetterStore.IsId(id))
        {
            return BadId();
        }

        try
        {
            await deadLetters.DeleteAsync(id, cancellationToken).ConfigureAwait(false);
            return ApiResults.Empty(StatusCodes.Status204NoContent);
        }
        catch (StoreUnavailableException)
        {
            return TrackingHandler.StorageUnavailable();
        }
    }

    private static IActionResult BadId() =>
        ApiResults.BadRequest("id", "A dead letter id is as the listing gives it: t and 19 digits, a dot, the event id, a dot, the subscription id (or, kept by earlier versions, the event id, a dot, the subscription id).");
}
