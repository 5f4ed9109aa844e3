using Microsoft.Extensions.Logging;

namespace TagStatus.Core.SmsPartner;

internal static partial class SmsPartnerLog
{
    [LoggerMessage(1001, LogLevel.Warning, "SMS Partner refused the API key for tag {Tag}; re-reading the key from its source once")]
    public static partial void KeyRefusedRereading(ILogger logger, string tag);

    [LoggerMessage(1002, LogLevel.Error, "SMS Partner refused the API key (code 10) after it was re-read; set a valid key in the secret source")]
    public static partial void KeyRefused(ILogger logger);

    [LoggerMessage(1003, LogLevel.Warning, "SMS Partner ignored the page parameter for tag {Tag} (page {Page} repeated the previous one); stopped paging")]
    public static partial void PagingIgnored(ILogger logger, string tag, int page);

    [LoggerMessage(1004, LogLevel.Warning, "SMS Partner announced {Announced} rows and sent {Received} distinct ones; the tag cannot complete on this answer")]
    public static partial void ShortAnswer(ILogger logger, int received, int? announced);

    [LoggerMessage(1007, LogLevel.Warning, "SMS Partner sent the unknown status {RawStatus} for tag {Tag}; kept verbatim as unknown")]
    public static partial void UnknownStatus(ILogger logger, string rawStatus, string tag);

    [LoggerMessage(1005, LogLevel.Information, "SMS Partner {Method} {Uri} answered {StatusCode} in {ElapsedMs} ms")]
    public static partial void Call(ILogger logger, string method, string uri, int statusCode, double elapsedMs);

    [LoggerMessage(1006, LogLevel.Warning, "SMS Partner {Method} {Uri} failed after {ElapsedMs} ms")]
    public static partial void CallFailed(ILogger logger, string method, string uri, double elapsedMs, Exception exception);
}
