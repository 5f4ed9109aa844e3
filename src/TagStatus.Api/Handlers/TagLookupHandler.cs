using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
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

namespace TagStatus.Api.Handlers;

/// <summary><c>GET /api/tags/{tag}</c>: the status of every message sent under a tag.</summary>
public sealed class TagLookupHandler(TagLookupService lookup, IOptions<LookupOptions> options)
{
    public async Task<IActionResult> GetAsync(HttpRequest request, string tag, CancellationToken cancellationToken)
    {
        if (!Tag.TryParse(tag, out var parsed, out var tagError))
        {
            return ApiResults.BadRequest("tag", tagError);
        }

        if (!QueryReader.TryInt(request, "maxAge", 0, 7 * 24 * 3600, options.Value.DefaultMaxAge, out var maxAge, out var error)
            || !QueryReader.TryInt(request, "page", 1, 1_000_000, 1, out var page, out error)
            || !QueryReader.TryInt(request, "pageSize", 1, RecipientQuery.MaxPageSize, RecipientQuery.DefaultPageSize, out var pageSize, out error)
            || !QueryReader.TryStatuses(request, out var statuses, out error))
        {
            return ApiResults.BadRequest(ParameterOf(error), error);
        }

        var query = new RecipientQuery(statuses, page, pageSize);
        var result = await lookup.LookupAsync(parsed, TimeSpan.FromSeconds(maxAge), cancellationToken).ConfigureAwait(false);
        return result switch
        {
            LookupResult.Found found => Represent(request, found, query),
            LookupResult.NotFound => ApiResults.NotFound($"SMS Partner knows no message under the tag '{parsed}', and nothing is stored for it."),
            LookupResult.UpstreamFailed failed => ApiResults.UpstreamFailed(failed.Detail, failed.UpstreamCode),
            LookupResult.Unavailable down => ApiResults.Unavailable(down.Detail, down.RetryAfter),
            _ => throw new InvalidOperationException($"Unexpected lookup result {result.GetType().Name}."),
        };
    }

    private static IActionResult Represent(HttpRequest request, LookupResult.Found found, RecipientQuery query)
    {
        var snapshot = found.Snapshot;
        var wantsCsv = WantsCsv(request);
        byte[] body;
        string etag;
        if (wantsCsv)
        {
            var matching = query.Filter(snapshot.Recipients).ToList();
            body = RecipientCsv.Write(matching);
            etag = EntityTag(snapshot.Summary, matching, "csv");
        }
        else
        {
            var (items, hasMore) = query.Apply(snapshot.Recipients);
            var nextLink = hasMore
                ? QueryReader.Link(request, new Dictionary<string, string?> { ["page"] = (query.Page + 1).ToString(CultureInfo.InvariantCulture) })
                : null;
            var detail = new TagDetailResponse(TagResponse.Summary(snapshot.Summary, found.Source, found.Stale), items.Select(RecipientDto.From).ToList(), nextLink);
            body = JsonSerializer.SerializeToUtf8Bytes(detail, ApiJsonContext.Api.TagDetailResponse);
            etag = EntityTag(snapshot.Summary, items, string.Create(CultureInfo.InvariantCulture, $"json|{query.Page}|{query.PageSize}|{hasMore}"));
        }

        var headers = new Dictionary<string, string> { [HeaderNames.ETag] = etag, [HeaderNames.Vary] = HeaderNames.Accept };
        if (IfNoneMatch(request, etag))
        {
            return ApiResults.Empty(StatusCodes.Status304NotModified, headers);
        }

        return new BodyResult(StatusCodes.Status200OK, wantsCsv ? ApiResults.Csv : ApiResults.Json, body, headers);
    }

    /// <summary>
    /// A weak ETag over what the answer says (state, counts, the recipients it shows), not over when or how it was
    /// read, so a caller polling an unchanged tag gets 304 whether the answer came live or from the store. Hashed
    /// incrementally, one recipient at a time: no copy of the tag is built for it.
    /// </summary>
    private static string EntityTag(TagSummary summary, IEnumerable<Recipient> shown, string form)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> buffer = stackalloc byte[256];
        Append(hash, buffer, $"{form}|{summary.State}|{summary.Tracked}|{summary.Counts}|{summary.CompletedAt?.ToUnixTimeSeconds()}|{summary.UpstreamTotal}|{summary.Partial}\n");
        foreach (var recipient in shown)
        {
            // The number is upstream data of any length; the rest of the line is bounded.
            var phone = recipient.PhoneNumber;
            hash.AppendData(Encoding.UTF8.GetMaxByteCount(phone.Length) <= buffer.Length ? buffer[..Encoding.UTF8.GetBytes(phone, buffer)] : Encoding.UTF8.GetBytes(phone));
            Append(hash, buffer, $";{recipient.Occurrence};{(int)recipient.Status};{recipient.StopSms};{recipient.StatusAt?.ToUnixTimeSeconds()}\n");
        }

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

/// <summary>RFC 4180 CSV of recipients: <c>phoneNumber,status,stopSms,statusAt</c>.</summary>
public static class RecipientCsv
{
    public const string Header = "phoneNumber,status,stopSms,statusAt";

    public static byte[] Write(IEnumerable<Recipient> recipients)
    {
        var builder = new StringBuilder(Header).Append("\r\n");
        foreach (var recipient in recipients)
        {
            builder.Append(Field(recipient.PhoneNumber)).Append(',')
                .Append(recipient.Status.ToApiName()).Append(',')
                .Append(recipient.StopSms ? "true" : "false").Append(',')
                .Append(recipient.StatusAt?.UtcDateTime.ToString(UtcSecondsConverter.Format, System.Globalization.CultureInfo.InvariantCulture))
                .Append("\r\n");
        }

        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    private static string Field(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
}
