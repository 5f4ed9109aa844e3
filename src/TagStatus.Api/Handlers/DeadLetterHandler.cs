using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using TagStatus.Api.Contracts;
using TagStatus.Api.Http;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Storage;

namespace TagStatus.Api.Handlers;

/// <summary>
/// <c>GET /api/deadletters</c> and <c>POST /api/deadletters/{id}/replay</c>: the events receivers refused as malformed
/// or too large (400, 413), for an operator to look at and send again once the receiver is fixed.
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
            var items = page.Items.Select(d => new DeadLetterDto(d.Id, d.Tag, d.EventId, d.EventType, d.SubscriptionId, d.CallbackTarget, d.Status, d.Attempts, d.DeadLetteredAt)).ToList();
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
            return ApiResults.BadRequest("id", "A dead letter id is the event id, a dot, and the subscription id, as the listing gives it.");
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
}
