using System.Text.RegularExpressions;
using Microsoft.Extensions.Http.Logging;
using Microsoft.Extensions.Logging;

namespace TagStatus.Core.SmsPartner;

/// <summary>
/// Logs each SMS Partner call in place of the HttpClient factory's default loggers, because the API key travels in
/// the query string: the <c>apiKey</c> value is replaced before anything is written.
/// </summary>
internal sealed partial class SmsPartnerHttpLogger(ILogger<SmsPartnerHttpLogger> logger) : IHttpClientLogger
{
    public object? LogRequestStart(HttpRequestMessage request) => null;

    public void LogRequestStop(object? context, HttpRequestMessage request, HttpResponseMessage response, TimeSpan elapsed) =>
        SmsPartnerLog.Call(logger, request.Method.Method, Redact(request.RequestUri), (int)response.StatusCode, elapsed.TotalMilliseconds);

    public void LogRequestFailed(object? context, HttpRequestMessage request, HttpResponseMessage? response, Exception exception, TimeSpan elapsed) =>
        SmsPartnerLog.CallFailed(logger, request.Method.Method, Redact(request.RequestUri), elapsed.TotalMilliseconds, exception);

    internal static string Redact(Uri? uri) => uri is null ? string.Empty : ApiKeyValue().Replace(uri.OriginalString, "${name}***");

    [GeneratedRegex("(?<name>[?&]apiKey=)[^&#]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ApiKeyValue();
}
