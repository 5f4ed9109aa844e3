using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;
using TagStatus.Api.Contracts;
using TagStatus.Api.Http;
using TagStatus.Core.Domain;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;

namespace TagStatus.Api.Handlers;

/// <summary>
/// <c>POST /api/tags</c>, <c>DELETE /api/tags/{tag}</c>, <c>GET /api/tags</c> and <c>GET /api/tags/{tag}/completion</c>:
/// tracking, and the asynchronous request-reply pattern Logic Apps and Power Automate follow by themselves.
/// </summary>
public sealed class TrackingHandler(TrackingService tracking, ITagStore store, IPassStore passes, TimeProvider time)
{
    private static readonly TimeSpan MinPollInterval = TimeSpan.FromSeconds(5);

    public async Task<IActionResult> RegisterAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var (body, error) = await RequestBody.ReadAsync(request, ApiJsonContext.Api.RegisterTagRequest, """{ "tag": "montag" }""", cancellationToken).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        if (!Tag.TryParse(body!.Tag, out var tag, out var tagError))
        {
            return ApiResults.BadRequest("tag", tagError);
        }

        try
        {
            var summary = await tracking.RegisterAsync(tag, cancellationToken).ConfigureAwait(false);
            return ApiResults.Ok(TagResponse.Summary(summary), ApiJsonContext.Api.TagResponse, StatusCodes.Status202Accepted, PollingHeaders(request, summary));
        }
        catch (StoreUnavailableException)
        {
            return StorageUnavailable();
        }
        catch (StoreConflictException)
        {
            return Contended();
        }
    }

    public async Task<IActionResult> UntrackAsync(string tag, CancellationToken cancellationToken)
    {
        if (!Tag.TryParse(tag, out var parsed, out var tagError))
        {
            return ApiResults.BadRequest("tag", tagError);
        }

        try
        {
            return await tracking.UntrackAsync(parsed, cancellationToken).ConfigureAwait(false)
                ? ApiResults.Empty(StatusCodes.Status204NoContent)
                : ApiResults.NotFound($"The tag '{parsed}' is not tracked.");
        }
        catch (StoreUnavailableException)
        {
            return StorageUnavailable();
        }
        catch (StoreConflictException)
        {
            return Contended();
        }
    }

    public async Task<IActionResult> ListAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!QueryReader.TryTagState(request, out var state, out var error)
            || !QueryReader.TryInt(request, "pageSize", 1, 1000, 100, out var pageSize, out error))
        {
            return ApiResults.BadRequest(error.StartsWith("'state'", StringComparison.Ordinal) ? "state" : "pageSize", error);
        }

        if (!QueryReader.TryOpaque(request, "continuationToken", out var token, out error))
        {
            return ApiResults.BadRequest("continuationToken", error);
        }

        try
        {
            var page = await tracking.ListAsync(state, pageSize, token, cancellationToken).ConfigureAwait(false);
            var nextLink = page.ContinuationToken is null ? null : QueryReader.Link(request, new Dictionary<string, string?> { ["continuationToken"] = page.ContinuationToken });
            return ApiResults.Ok(new TagListResponse(page.Tags.Select(s => TagResponse.Summary(s)).ToList(), nextLink), ApiJsonContext.Api.TagListResponse);
        }
        catch (ArgumentException)
        {
            return ApiResults.BadRequest("continuationToken", "'continuationToken' is not one this service gave; start again without it.");
        }
        catch (StoreUnavailableException)
        {
            return StorageUnavailable();
        }
    }

    /// <summary>202 with <c>Location</c> (itself) and <c>Retry-After</c> while pending; 200 with the summary once settled.</summary>
    public async Task<IActionResult> CompletionAsync(HttpRequest request, string tag, CancellationToken cancellationToken)
    {
        if (!Tag.TryParse(tag, out var parsed, out var tagError))
        {
            return ApiResults.BadRequest("tag", tagError);
        }

        StoredSummary? stored;
        try
        {
            stored = await store.GetSummaryAsync(parsed, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreUnavailableException)
        {
            return StorageUnavailable();
        }

        if (stored is null)
        {
            return await IsBeingReadAsync(parsed, cancellationToken).ConfigureAwait(false)
                ? ApiResults.Empty(StatusCodes.Status202Accepted, new Dictionary<string, string>
                {
                    [HeaderNames.Location] = CompletionUrl(request, parsed),
                    [HeaderNames.RetryAfter] = ApiResults.Seconds(MinPollInterval),
                })
                : ApiResults.NotFound($"Nothing is known of the tag '{parsed}': register it with POST /api/tags first.");
        }

        var summary = stored.Summary;
        if (!summary.State.IsSettled() && !summary.Tracked)
        {
            // Nothing would ever settle it: polling would wait forever.
            return ApiResults.NotFound($"The tag '{parsed}' is not tracked, so it will not settle: register it with POST /api/tags.");
        }

        return summary.State.IsSettled()
            ? ApiResults.Ok(TagResponse.Summary(summary), ApiJsonContext.Api.TagResponse)
            : ApiResults.Ok(TagResponse.Summary(summary), ApiJsonContext.Api.TagResponse, StatusCodes.Status202Accepted, PollingHeaders(request, summary));
    }

    /// <summary>A lookup handed the tag's first read to the refresh queue (too big to read inline): its pass is open.</summary>
    private async Task<bool> IsBeingReadAsync(Tag tag, CancellationToken cancellationToken)
    {
        try
        {
            return await passes.IsOpenAsync(tag, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreUnavailableException)
        {
            return false;
        }
    }

    private Dictionary<string, string> PollingHeaders(HttpRequest request, TagSummary summary)
    {
        // Between a floor (a late timer must not turn callers into 1-second pollers) and an hour.
        var wait = summary.NextRefreshAt is { } next ? next - time.GetUtcNow() : TimeSpan.FromSeconds(60);
        wait = TimeSpan.FromTicks(Math.Clamp(wait.Ticks, MinPollInterval.Ticks, TimeSpan.FromHours(1).Ticks));
        return new Dictionary<string, string>
        {
            [HeaderNames.Location] = CompletionUrl(request, summary.Tag),
            [HeaderNames.RetryAfter] = ApiResults.Seconds(wait),
        };
    }

    /// <summary>
    /// Absolute, so a workflow can follow it as is. A caller that authenticated with <c>?code=</c> gets its own key
    /// back on the URL, because Logic Apps polls the Location without the original headers.
    /// </summary>
    internal static string CompletionUrl(HttpRequest request, Tag tag)
    {
        var url = string.Concat(PublicUrl.Of(request).Base, "/api/tags/", Uri.EscapeDataString(tag.Value), "/completion");
        var code = request.Query["code"].FirstOrDefault();
        return string.IsNullOrEmpty(code) ? url : url + QueryString.Create("code", code).ToUriComponent();
    }

    internal static BodyResult StorageUnavailable() =>
        ApiResults.Unavailable("Storage cannot be reached.", TimeSpan.FromSeconds(30));

    /// <summary>Other requests kept changing the tag through every retry: harmless to try again in a moment.</summary>
    internal static BodyResult Contended() =>
        ApiResults.Unavailable("The tag is being changed by other requests; try again.", TimeSpan.FromSeconds(1));
}
