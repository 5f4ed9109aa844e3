using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using TagStatus.Api.Contracts;

namespace TagStatus.Api.Http;

/// <summary>Builds every answer the API gives, so status codes, content types and problem documents stay uniform.</summary>
public static class ApiResults
{
    public const string Json = "application/json; charset=utf-8";
    public const string ProblemJson = "application/problem+json; charset=utf-8";
    public const string Csv = "text/csv; charset=utf-8";

    public static BodyResult Ok<T>(T value, JsonTypeInfo<T> typeInfo, int status = 200, IReadOnlyDictionary<string, string>? headers = null) =>
        new(status, Json, JsonSerializer.SerializeToUtf8Bytes(value, typeInfo), headers);

    public static BodyResult Empty(int status, IReadOnlyDictionary<string, string>? headers = null) =>
        new(status, null, ReadOnlyMemory<byte>.Empty, headers);

    public static BodyResult BadRequest(string parameter, string detail) =>
        Problem(400, "invalid-request", "The request is not valid.", detail, parameter: parameter);

    public static BodyResult NotFound(string detail) =>
        Problem(404, "not-found", "Not found.", detail);

    public static BodyResult UpstreamFailed(string detail, int? upstreamCode) =>
        Problem(502, "upstream-failed", "SMS Partner refused the call or answered something unreadable.", detail, upstreamCode);

    public static BodyResult Unavailable(string detail, TimeSpan retryAfter) =>
        Problem(503, "unavailable", "A service Tag Status depends on cannot be reached.", detail,
            headers: new Dictionary<string, string> { ["Retry-After"] = Seconds(retryAfter) });

    public static BodyResult Problem(int status, string slug, string title, string detail, int? upstreamCode = null, string? parameter = null, IReadOnlyDictionary<string, string>? headers = null) =>
        new(status, ProblemJson,
            JsonSerializer.SerializeToUtf8Bytes(new ProblemDocument($"urn:tag-status:problem:{slug}", title, status, detail, upstreamCode, parameter), ApiJsonContext.Api.ProblemDocument),
            headers);

    public static string Seconds(TimeSpan delay) =>
        Math.Max(1, (long)Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}
