using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace SmsPartner.Simulator;

/// <summary><c>GET /v1/bulk-status-by-tag?apiKey=KEY&amp;tag=TAG&amp;page=N</c>, with the documented envelope and codes.</summary>
internal static class StatusEndpoint
{
    public const string Path = "/v1/bulk-status-by-tag";

    private const string JsonContentType = "application/json; charset=utf-8";

    // The provider writes "+336…" literally; the default encoder would write "\u002B336…".
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task HandleAsync(HttpContext context, SimulatorState state, ILogger logger)
    {
        var query = context.Request.Query;
        string? apiKey = query["apiKey"];
        string? tag = query["tag"];
        string? page = query["page"];

        state.RecordStatusRequest(tag, apiKey);

        var fault = state.TakeFault(tag, RequestedPage(page));
        if (fault is not null)
        {
            state.RecordFaultServed();
            SimulatorLog.FaultServed(logger, fault.Kind, tag ?? "");
            switch (fault.Kind)
            {
                case FaultKind.Slow:
                    try
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(fault.DelayMs), state.Clock, context.RequestAborted);
                    }
                    catch (OperationCanceledException)
                    {
                        return; // the caller gave up
                    }

                    break; // then answer normally
                case FaultKind.Truncated:
                    await WriteTruncatedAsync(context, Answer(state, logger, apiKey, tag, page));
                    return;
                case FaultKind.Dropped:
                    context.Abort();
                    return;
                default:
                    await WriteAsync(context, FaultAnswer(state, fault));
                    return;
            }
        }

        await WriteAsync(context, Answer(state, logger, apiKey, tag, page));
    }

    private static Reply Answer(SimulatorState state, ILogger logger, string? apiKey, string? tag, string? pageText)
    {
        if (string.IsNullOrEmpty(apiKey))
        {
            state.RecordKeyRefused();
            SimulatorLog.KeyRefused(logger, "missing");
            return Failure(state, 1, null);
        }

        if (!state.IsValidKey(apiKey))
        {
            state.RecordKeyRefused();
            SimulatorLog.KeyRefused(logger, "invalid");
            return Failure(state, 10, null);
        }

        SimulatorLog.KeyAccepted(logger, tag ?? "");

        // The provider documents no code for a missing tag; "message not found" is the nearest.
        if (string.IsNullOrEmpty(tag) || !state.TryGetTag(tag, out var seeded))
        {
            SimulatorLog.UnknownTag(logger, tag ?? "");
            return Failure(state, 4, null);
        }

        var paging = state.Paging;
        var page = paging.IgnorePage ? 1 : RequestedPage(pageText);
        var total = seeded.Recipients.Length;
        var shift = total == 0 ? 0 : (int)(seeded.CountRequest() * paging.ShiftPerRequest % total);
        var skip = (long)(page - 1) * paging.PageSize;
        var take = skip >= total ? 0 : (int)Math.Min(paging.PageSize, total - skip);
        var now = state.Now;

        var buffer = new ArrayBufferWriter<byte>(256 + (take * 96));
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteBoolean("success", true);
            json.WriteNumber("code", 200);
            WriteCount(json, "currentPage", page, paging.NumbersAsStrings);
            WriteCount(json, "total", total, paging.NumbersAsStrings);
            json.WriteStartArray("StatutResponse_List");
            for (var i = 0; i < take; i++)
            {
                // Shifted: the last `shift` rows come first, as if they had been inserted at the top.
                var row = seeded.Recipients[(int)((skip + i - shift + total) % total)].Evaluate(now);
                json.WriteStartObject();
                json.WriteString("phoneNumber", row.PhoneNumber);
                json.WriteString("status", row.Status);
                switch (paging.StopSmsAs)
                {
                    case StopSmsFormat.Int:
                        json.WriteNumber("stopSMS", row.StopSms ? 1 : 0);
                        break;
                    case StopSmsFormat.String:
                        json.WriteString("stopSMS", row.StopSms ? "true" : "false");
                        break;
                    default:
                        json.WriteBoolean("stopSMS", row.StopSms);
                        break;
                }

                if (paging.DateAsNumber)
                {
                    json.WriteNumber("date", row.DateUnixSeconds);
                }
                else
                {
                    json.WriteString("date", row.DateUnixSeconds.ToString(CultureInfo.InvariantCulture));
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return new Reply(StatusCodes.Status200OK, JsonContentType, buffer.WrittenMemory, null);
    }

    /// <summary>The page asked for: missing, not a number or below 1 means page 1.</summary>
    private static int RequestedPage(string? pageText) =>
        int.TryParse(pageText, NumberStyles.None, CultureInfo.InvariantCulture, out var page) && page >= 1 ? page : 1;

    private static void WriteCount(Utf8JsonWriter json, string name, long value, bool asString)
    {
        if (asString)
        {
            json.WriteString(name, value.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            json.WriteNumber(name, value);
        }
    }

    /// <summary>The documented failure envelope: <c>{"success":false,"code":10,"message":"Invalid API key"}</c>.</summary>
    private static Reply Failure(SimulatorState state, int code, int? httpStatus)
    {
        var buffer = new ArrayBufferWriter<byte>(96);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteBoolean("success", false);
            json.WriteNumber("code", code);
            json.WriteString("message", MessageFor(code));
            json.WriteEndObject();
        }

        var status = httpStatus ?? (state.FailuresUseHttpStatus ? HttpStatusFor(code) : StatusCodes.Status200OK);
        return new Reply(status, JsonContentType, buffer.WrittenMemory, null);
    }

    internal static string MessageFor(int code) => code switch
    {
        1 => "API key is required",
        3 => "Message ID is required",
        4 => "Message not found",
        10 => "Invalid API key",
        _ => "Error",
    };

    internal static int HttpStatusFor(int code) => code switch
    {
        1 or 3 => StatusCodes.Status400BadRequest,
        10 => StatusCodes.Status401Unauthorized,
        4 => StatusCodes.Status404NotFound,
        _ => StatusCodes.Status400BadRequest,
    };

    private static Reply FaultAnswer(SimulatorState state, FaultSpec fault) => fault.Kind switch
    {
        FaultKind.ServerError => new Reply(
            fault.HttpStatus ?? StatusCodes.Status500InternalServerError,
            JsonContentType,
            """{"error":"simulated server error"}"""u8.ToArray(),
            null),
        FaultKind.TooManyRequests => new Reply(
            StatusCodes.Status429TooManyRequests,
            JsonContentType,
            """{"error":"too many requests"}"""u8.ToArray(),
            fault.RetryAfterSeconds),
        FaultKind.MalformedJson => new Reply(
            StatusCodes.Status200OK,
            JsonContentType,
            """{"success":true,"code":200,"currentPage":1,"total":2,"StatutResponse_List":[{"phoneNumber":"+33600000001","status":"Deliv"""u8.ToArray(),
            null),
        FaultKind.NonJson => new Reply(
            StatusCodes.Status200OK,
            "text/html; charset=utf-8",
            Encoding.UTF8.GetBytes("<!DOCTYPE html><html><head><title>Maintenance</title></head><body><h1>Service under maintenance</h1></body></html>"),
            null),
        FaultKind.Failure => Failure(state, fault.Code, fault.HttpStatus),
        _ => throw new InvalidOperationException($"Fault {fault.Kind} has no canned answer."),
    };

    private static async Task WriteAsync(HttpContext context, Reply reply)
    {
        var response = context.Response;
        response.StatusCode = reply.Status;
        response.ContentType = reply.ContentType;
        response.ContentLength = reply.Body.Length;
        if (reply.RetryAfterSeconds is { } retryAfter)
        {
            response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        }

        await response.Body.WriteAsync(reply.Body, context.RequestAborted);
    }

    private static async Task WriteTruncatedAsync(HttpContext context, Reply reply)
    {
        var response = context.Response;
        response.StatusCode = reply.Status;
        response.ContentType = reply.ContentType;
        response.ContentLength = reply.Body.Length;
        await response.Body.WriteAsync(reply.Body[..(reply.Body.Length / 2)], context.RequestAborted);
        await response.Body.FlushAsync(context.RequestAborted);
        context.Abort(); // the client sees the connection end before Content-Length bytes arrived
    }

    private readonly record struct Reply(int Status, string ContentType, ReadOnlyMemory<byte> Body, int? RetryAfterSeconds);
}
