using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using TagStatus.Api.Contracts;
using TagStatus.Api.Http;
using TagStatus.Core.Domain;
using TagStatus.Core.Json;
using TagStatus.Core.Lookup;
using TagStatus.Core.Storage;

namespace TagStatus.Api.Handlers;

/// <summary>
/// <c>GET /api/tags/{tag}</c>: the status of every message sent under a tag; <c>GET /api/tags/{tag}/recipients</c>:
/// the same page of recipients alone, as a root <c>value</c> array that connectors' paging merges.
/// </summary>
public sealed class TagLookupHandler(TagLookupService lookup, IOptions<LookupOptions> options)
{
    public Task<IActionResult> GetAsync(HttpRequest request, string tag, CancellationToken cancellationToken) =>
        LookupAsync(request, tag, recipientsOnly: false, cancellationToken);

    public Task<IActionResult> GetRecipientsAsync(HttpRequest request, string tag, CancellationToken cancellationToken) =>
        LookupAsync(request, tag, recipientsOnly: true, cancellationToken);

    private async Task<IActionResult> LookupAsync(HttpRequest request, string tag, bool recipientsOnly, CancellationToken cancellationToken)
    {
        if (!Tag.TryParse(tag, out var parsed, out var tagError))
        {
            return ApiResults.BadRequest("tag", tagError);
        }

        if (!QueryReader.TryInt(request, "maxAge", 0, 7 * 24 * 3600, options.Value.DefaultMaxAge, out var maxAge, out var error)
            || !QueryReader.TryInt(request, "page", 1, 1, 1, out _, out error)
            || !QueryReader.TryInt(request, "pageSize", 1, RecipientQuery.MaxPageSize, RecipientQuery.DefaultPageSize, out var pageSize, out error)
            || !QueryReader.TryStatuses(request, out var statuses, out error)
            || !QueryReader.TryBool(request, "stopSms", out var stopSms, out error))
        {
            return ApiResults.BadRequest(ParameterOf(error), error.StartsWith("'page' ", StringComparison.Ordinal) ? PageReplaced : error);
        }

        if (!QueryReader.TryOpaque(request, "continuationToken", out var token, out error))
        {
            return ApiResults.BadRequest("continuationToken", error);
        }

        if (token is not null && !ListContinuation.TryRead(token, out _))
        {
            return BadToken();
        }

        var query = new RecipientQuery(statuses, pageSize, token, stopSms);
        var result = await lookup.LookupAsync(parsed, TimeSpan.FromSeconds(maxAge), cancellationToken).ConfigureAwait(false);
        return result switch
        {
            LookupResult.Found found => await RepresentAsync(request, found, query, recipientsOnly, cancellationToken).ConfigureAwait(false),
            LookupResult.Accepted accepted => ApiResults.Problem(StatusCodes.Status202Accepted, "refreshing", "The tag is being read from SMS Partner.",
                $"Nothing is stored for the tag '{parsed}' yet and its read is under way; follow Location after Retry-After.",
                headers: new Dictionary<string, string>
                {
                    [HeaderNames.Location] = TrackingHandler.CompletionUrl(request, parsed),
                    [HeaderNames.RetryAfter] = ApiResults.Seconds(accepted.RetryAfter),
                }),
            LookupResult.NotFound => ApiResults.NotFound($"SMS Partner knows no message under the tag '{parsed}', and nothing is stored for it."),
            LookupResult.UpstreamFailed failed => ApiResults.UpstreamFailed(failed.Detail, failed.UpstreamCode),
            LookupResult.Unavailable down => ApiResults.Unavailable(down.Detail, down.RetryAfter),
            _ => throw new InvalidOperationException($"Unexpected lookup result {result.GetType().Name}."),
        };
    }

    private const string PageReplaced = "'page' is no longer taken: follow nextLink, which carries a continuationToken.";

    /// <summary>
    /// The ETag comes from the summary and the query alone, so a 304 reads no recipient row; only a 200 reads them: one
    /// page, or for CSV every matching row streamed a storage page at a time.
    /// </summary>
    private async Task<IActionResult> RepresentAsync(HttpRequest request, LookupResult.Found found, RecipientQuery query, bool recipientsOnly, CancellationToken cancellationToken)
    {
        var summary = found.Summary;
        var wantsCsv = !recipientsOnly && WantsCsv(request);
        var statuses = query.Statuses is null ? "*" : string.Join(',', query.Statuses.Order().Select(s => s.ToApiName()));
        statuses += query.StopSms switch { true => "|stopSms", false => "|!stopSms", null => string.Empty };
        var form = recipientsOnly ? "recipients" : "json";
        var etag = wantsCsv
            ? EntityTag(summary, $"csv|{statuses}")
            : EntityTag(summary, string.Create(CultureInfo.InvariantCulture, $"{form}|{statuses}|{query.PageSize}|{query.ContinuationToken}"));
        var headers = new Dictionary<string, string> { [HeaderNames.ETag] = etag, [HeaderNames.Vary] = HeaderNames.Accept };
        if (IfNoneMatch(request, etag))
        {
            return ApiResults.Empty(StatusCodes.Status304NotModified, headers);
        }

        if (wantsCsv)
        {
            return new RecipientCsvResult(lookup.ReadAllAsync(summary.Tag, query.Filter, cancellationToken), headers);
        }

        RecipientPage page;
        try
        {
            page = await lookup.ReadPageAsync(summary.Tag, query, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException)
        {
            return BadToken();
        }
        catch (StoreUnavailableException)
        {
            return TrackingHandler.StorageUnavailable();
        }
        catch (RecipientsExpiredException)
        {
            return RecipientsExpired(summary.Tag);
        }

        var nextLink = page.ContinuationToken is { } next
            ? QueryReader.Link(request, new Dictionary<string, string?> { ["continuationToken"] = next, ["page"] = null })
            : null;
        if (recipientsOnly)
        {
            var list = new RecipientListResponse(page.Recipients.Select(RecipientDto.From).ToList(), nextLink);
            return ApiResults.Ok(list, ApiJsonContext.Api.RecipientListResponse, headers: headers);
        }

        var detail = new TagDetailResponse(TagResponse.Summary(summary, found.Source, found.Stale), page.Recipients.Select(RecipientDto.From).ToList(), nextLink, found.Refreshing);
        return ApiResults.Ok(detail, ApiJsonContext.Api.TagDetailResponse, headers: headers);
    }

    /// <summary>410: the tag's recipients were deleted by retention; its summary (completion, listing) still answers.</summary>
    internal static BodyResult RecipientsExpired(Tag tag) =>
        ApiResults.Problem(StatusCodes.Status410Gone, "recipients-expired", "The tag's recipients are past retention.",
            $"The recipients of tag '{tag}' were deleted after Retention:Months; its summary still answers at /api/tags/{tag}/completion and in the listing.");

    private static BodyResult BadToken() =>
        ApiResults.BadRequest("continuationToken", "'continuationToken' is not one this service gave; start again without it.");

    /// <summary>
    /// A weak ETag over what the answer says (state, counts, the version of the tag's recipients, the query), not over
    /// when or how it was read, so a caller polling an unchanged tag gets 304 whether the answer came live or from the
    /// store, and the decision needs the summary alone.
    /// </summary>
    private static string EntityTag(TagSummary summary, string form)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(form));
        Span<byte> buffer = stackalloc byte[256];
        Append(hash, buffer, $"|{summary.State}|{summary.Tracked}|{summary.Counts}|{summary.CompletedAt?.ToUnixTimeSeconds()}|{summary.UpstreamTotal}|{summary.Partial}|{summary.RecipientsVersion}\n");
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return $"W/\"{Convert.ToHexStringLower(digest[..16])}\"";
    }

    private static void Append(IncrementalHash hash, Span<byte> buffer, [InterpolatedStringHandlerArgument(nameof(buffer))] ref Utf8.TryWriteInterpolatedStringHandler line)
    {
        if (Utf8.TryWrite(buffer, ref line, out var written))
        {
            hash.AppendData(buffer[..written]);
        }
        else
        {
            throw new InvalidOperationException("A bounded hashing line did not fit its buffer.");
        }
    }

    private static bool IfNoneMatch(HttpRequest request, string etag)
    {
        var header = request.Headers.IfNoneMatch;
        if (header.Count == 0)
        {
            return false;
        }

        var opaque = etag[2..];
        return EntityTagHeaderValue.TryParseList(header, out var candidates)
            && candidates.Any(c => c.Equals(EntityTagHeaderValue.Any) || c.Tag.Equals(opaque, StringComparison.Ordinal));
    }

    private static bool WantsCsv(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted))
        {
            return false;
        }

        double Quality(string type) => accepted.Where(a => a.MediaType.Equals(type, StringComparison.OrdinalIgnoreCase)).Select(a => a.Quality ?? 1).DefaultIfEmpty(-1).Max();
        var csv = Quality("text/csv");
        return csv > 0 && csv >= Quality("application/json");
    }

    private static string ParameterOf(string error) => error.StartsWith('\'') ? error[1..error.IndexOf('\'', 1)] : "query";
}

/// <summary>
/// RFC 4180 CSV of recipients (<c>phoneNumber,status,stopSms,statusAt</c>), written to the response as UTF-8 while the
/// rows are read, a storage page at a time: memory stays bounded whatever the tag's size. The first page is read before
/// anything is sent, so storage down is a 503; a failure after that aborts the response, so a cut-off CSV never looks whole.
/// </summary>
public sealed class RecipientCsvResult(IAsyncEnumerable<Recipient> recipients, IReadOnlyDictionary<string, string> headers) : IActionResult
{
    public const string Header = "phoneNumber,status,stopSms,statusAt";

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    public async Task ExecuteResultAsync(ActionContext context)
    {
        var http = context.HttpContext;
        var cancellationToken = http.RequestAborted;
        await using var rows = recipients.GetAsyncEnumerator(cancellationToken);
        bool any;
        try
        {
            any = await rows.MoveNextAsync().ConfigureAwait(false);
        }
        catch (StoreUnavailableException)
        {
            await TrackingHandler.StorageUnavailable().ExecuteResultAsync(context).ConfigureAwait(false);
            return;
        }
        catch (RecipientsExpiredException e)
        {
            await TagLookupHandler.RecipientsExpired(Tag.Parse(e.Tag)).ExecuteResultAsync(context).ConfigureAwait(false);
            return;
        }

        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ApiResults.Csv;
        foreach (var (name, value) in headers)
        {
            response.Headers[name] = value;
        }

        var writer = new StreamWriter(response.Body, Utf8NoBom, bufferSize: 16 * 1024, leaveOpen: true) { NewLine = "\r\n" };
        await using (writer.ConfigureAwait(false))
        {
            try
            {
                await writer.WriteAsync(Header + "\r\n").ConfigureAwait(false);
                var line = new StringBuilder(64);
                while (any)
                {
                    // Into the writer's buffer; it goes to the response when full (at most 16 KB held).
                    await writer.WriteAsync(Line(line.Clear(), rows.Current), cancellationToken).ConfigureAwait(false);
                    any = await rows.MoveNextAsync().ConfigureAwait(false);
                }

                await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (StoreUnavailableException)
            {
                http.Abort();
            }
        }
    }

    private static StringBuilder Line(StringBuilder line, Recipient recipient)
    {
        Field(line, recipient.PhoneNumber).Append(',')
            .Append(recipient.Status.ToApiName()).Append(recipient.StopSms ? ",true," : ",false,");
        if (recipient.StatusAt is { } at)
        {
            line.Append(at.UtcDateTime.ToString(UtcSecondsConverter.Format, CultureInfo.InvariantCulture));
        }

        return line.Append("\r\n");
    }

    private static StringBuilder Field(StringBuilder line, string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") < 0
            ? line.Append(value)
            : line.Append('"').Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
}
