using System.Text.RegularExpressions;
using Microsoft.Extensions.Http.Logging;
using Microsoft.Extensions.Logging;
using TagStatus.Core.Operations;

namespace TagStatus.Core.SmsPartner;

/// <summary>
/// Logs each SMS Partner call in place of the HttpClient factory's default loggers, because the API key travels in
/// the query string: the <c>apiKey</c> value is replaced before anything is written. It sits inside the retries, so it
/// also counts every attempt for the upstream metric (429s included).
/// </summary>
internal sealed partial class SmsPartnerHttpLogger(ILogger<SmsPartnerHttpLogger> logger, TagStatusMetrics? metrics = null) : IHttpClientLogger
{
    public object? LogRequestStart(HttpRequestMessage request) => null;

    public void LogRequestStop(object? context, HttpRequestMessage request, HttpResponseMessage response, TimeSpan elapsed)
    {
        metrics?.RecordUpstreamResponse((int)response.StatusCode);
        SmsPartnerLog.Call(logger, request.Method.Method, Redact(request.RequestUri), (int)response.StatusCode, elapsed.TotalMilliseconds);
    }

    public void LogRequestFailed(object? context, HttpRequestMessage request, HttpResponseMessage? response, Exception exception, TimeSpan elapsed)
    {
        metrics?.RecordUpstreamFailure(exception);
        SmsPartnerLog.CallFailed(logger, request.Method.Method, Redact(request.RequestUri), elapsed.TotalMilliseconds, exception);
    }

    internal static string Redact(Uri? uri) => uri is null ? string.Empty : ApiKeyValue().Replace(uri.OriginalString, "${name}***");

    [GeneratedRegex("(?<name>[?&]apiKey=)[^&#]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ApiKeyValue();
}
