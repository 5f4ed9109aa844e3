using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using TagStatus.Api.Contracts;
using TagStatus.Api.Http;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using TagStatus.Core.Secrets;
using TagStatus.Core.Storage;

namespace TagStatus.Api.Handlers;

/// <summary>
/// The webhooks: <c>/api/tags/{tag}/subscriptions</c> for one tag, <c>/api/subscriptions</c> for any tag; each with
/// <c>DELETE …/{id}</c> (idempotent) and <c>POST …/{id}/rotate-secret</c>.
/// </summary>
public sealed class SubscriptionHandler(SubscriptionService subscriptions)
{
    private const string Example = """{ "callbackUrl": "https://...", "events": ["tag.completed"] }""";

    public async Task<IActionResult> SubscribeAsync(HttpRequest request, string tag, CancellationToken cancellationToken)
    {
        if (!Tag.TryParse(tag, out var parsed, out var tagError))
        {
            return ApiResults.BadRequest("tag", tagError);
        }

        return await CreateAsync(request, parsed, cancellationToken).ConfigureAwait(false);
    }

    public Task<IActionResult> SubscribeToAnyTagAsync(HttpRequest request, CancellationToken cancellationToken) =>
        CreateAsync(request, null, cancellationToken);

    public async Task<IActionResult> UnsubscribeAsync(string? tag, string id, CancellationToken cancellationToken)
    {
        if (CheckTarget(tag, id, out var parsed) is { } invalid)
        {
            return invalid;
        }

        try
        {
            // 204 whether or not it existed: turning a flow off must not fail because a 410 already ended its subscription.
            await subscriptions.UnsubscribeAsync(parsed, id, cancellationToken).ConfigureAwait(false);
            return ApiResults.Empty(StatusCodes.Status204NoContent);
        }
        catch (StoreUnavailableException)
        {
            return TrackingHandler.StorageUnavailable();
        }
    }

    public async Task<IActionResult> RotateSecretAsync(string? tag, string id, CancellationToken cancellationToken)
    {
        if (CheckTarget(tag, id, out var parsed) is { } invalid)
        {
            return invalid;
        }

        return await AnswerFailuresAsync(async () =>
        {
            var rotated = await subscriptions.RotateSecretAsync(parsed, id, cancellationToken).ConfigureAwait(false);
            return rotated is null
                ? ApiResults.NotFound(parsed is { } one ? $"The tag '{one}' has no subscription '{id}'." : $"There is no subscription '{id}' to any tag.")
                : ApiResults.Ok(new SecretResponse(rotated.Secret, rotated.PreviousValidUntil), ApiJsonContext.Api.SecretResponse);
        }).ConfigureAwait(false);
    }

    private async Task<IActionResult> CreateAsync(HttpRequest request, Tag? tag, CancellationToken cancellationToken)
    {
        var (body, error) = await RequestBody.ReadAsync(request, ApiJsonContext.Api.SubscribeRequest, Example, cancellationToken).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        return await AnswerFailuresAsync(async () =>
        {
            var result = await subscriptions.SubscribeAsync(tag, new SubscriptionRequest(body!.CallbackUrl, body.Events, body.TagPrefix), cancellationToken).ConfigureAwait(false);
            if (result is SubscribeResult.Rejected rejected)
            {
                return ApiResults.BadRequest(rejected.Parameter, rejected.Detail);
            }

            var (subscription, secret) = (SubscribeResult.Created)result;
            var path = tag is { } one ? $"/api/tags/{Uri.EscapeDataString(one.Value)}/subscriptions/{subscription.Id}" : $"/api/subscriptions/{subscription.Id}";
            var location = PublicUrl.Of(request).Base + path;
            return ApiResults.Ok(
                new SubscriptionResponse(subscription.Id, subscription.Tag, subscription.CallbackUrl.AbsoluteUri, subscription.Events, subscription.TagPrefix, subscription.CreatedAt, secret),
                ApiJsonContext.Api.SubscriptionResponse,
                StatusCodes.Status201Created,
                new Dictionary<string, string> { [HeaderNames.Location] = location });
        }).ConfigureAwait(false);
    }

    /// <summary>Storage or the vault out of reach, or a concurrent change: a 503 that says so, nothing changed.</summary>
    private static async Task<IActionResult> AnswerFailuresAsync(Func<Task<IActionResult>> change)
    {
        try
        {
            return await change().ConfigureAwait(false);
        }
        catch (StoreUnavailableException)
        {
            return TrackingHandler.StorageUnavailable();
        }
        catch (StoreConflictException)
        {
            return TrackingHandler.Contended();
        }
        catch (SecretUnavailableException)
        {
            return SigningKeyUnavailable();
        }
    }

    /// <summary>The 400 for a bad tag or id, or null when both read; <paramref name="parsed"/> is null for any tag.</summary>
    private static BodyResult? CheckTarget(string? tag, string id, out Tag? parsed)
    {
        parsed = null;
        if (tag is not null)
        {
            if (!Tag.TryParse(tag, out var one, out var tagError))
            {
                return ApiResults.BadRequest("tag", tagError);
            }

            parsed = one;
        }

        return id.Length != 32 || !id.All(char.IsAsciiHexDigitLower)
            ? ApiResults.BadRequest("id", "A subscription id is the 32 lowercase hexadecimal characters given back when subscribing.")
            : null;
    }

    private static BodyResult SigningKeyUnavailable() =>
        ApiResults.Unavailable("The webhook signing key cannot be read right now; nothing was changed. Try again shortly.", TimeSpan.FromSeconds(30));
}
