using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using TagStatus.Api.Contracts;
using TagStatus.Api.Http;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using TagStatus.Core.Storage;

namespace TagStatus.Api.Handlers;

/// <summary><c>POST /api/tags/{tag}/subscriptions</c> and <c>DELETE /api/tags/{tag}/subscriptions/{id}</c>: the webhook trigger.</summary>
public sealed class SubscriptionHandler(SubscriptionService subscriptions)
{
    public async Task<IActionResult> SubscribeAsync(HttpRequest request, string tag, CancellationToken cancellationToken)
    {
        if (!Tag.TryParse(tag, out var parsed, out var tagError))
        {
            return ApiResults.BadRequest("tag", tagError);
        }

        var (body, error) = await RequestBody.ReadAsync(request, ApiJsonContext.Api.SubscribeRequest, """{ "callbackUrl": "https://..." }""", cancellationToken).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        try
        {
            var result = await subscriptions.SubscribeAsync(parsed, body!.CallbackUrl, cancellationToken).ConfigureAwait(false);
            if (result is SubscribeResult.Rejected rejected)
            {
                return ApiResults.BadRequest(rejected.Parameter, rejected.Detail);
            }

            var subscription = ((SubscribeResult.Created)result).Subscription;
            var location = string.Concat(request.Scheme, "://", request.Host.ToUriComponent(), request.PathBase.ToUriComponent(),
                "/api/tags/", Uri.EscapeDataString(parsed.Value), "/subscriptions/", subscription.Id);
            return ApiResults.Ok(
                new SubscriptionResponse(subscription.Id, subscription.Tag, subscription.CallbackUrl.AbsoluteUri, subscription.CreatedAt),
                ApiJsonContext.Api.SubscriptionResponse,
                StatusCodes.Status201Created,
                new Dictionary<string, string> { [HeaderNames.Location] = location });
        }
        catch (StoreUnavailableException)
        {
            return TrackingHandler.StorageUnavailable();
        }
        catch (StoreConflictException)
        {
            return TrackingHandler.Contended();
        }
    }

    public async Task<IActionResult> UnsubscribeAsync(string tag, string id, CancellationToken cancellationToken)
    {
        if (!Tag.TryParse(tag, out var parsed, out var tagError))
        {
            return ApiResults.BadRequest("tag", tagError);
        }

        if (id.Length != 32 || !id.All(char.IsAsciiHexDigitLower))
        {
            return ApiResults.BadRequest("id", "A subscription id is the 32 lowercase hexadecimal characters given back when subscribing.");
        }

        try
        {
            return await subscriptions.UnsubscribeAsync(parsed, id, cancellationToken).ConfigureAwait(false)
                ? ApiResults.Empty(StatusCodes.Status204NoContent)
                : ApiResults.NotFound($"The tag '{parsed}' has no subscription '{id}'.");
        }
        catch (StoreUnavailableException)
        {
            return TrackingHandler.StorageUnavailable();
        }
    }
}
