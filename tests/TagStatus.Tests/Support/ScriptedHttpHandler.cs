using System.Collections.Concurrent;
using System.Collections.Specialized;
using System.Net;
using System.Text;
using System.Web;

namespace TagStatus.Tests.Support;

/// <summary>A request as the handler saw it: the absolute URI and its decoded query.</summary>
internal sealed record RecordedRequest(HttpMethod Method, Uri Uri, NameValueCollection Query, IReadOnlyList<string> Accept)
{
    public string? ApiKey => Query["apiKey"];

    public string? Tag => Query["tag"];

    public int? Page => int.TryParse(Query["page"], out var page) ? page : null;
}

/// <summary>
/// A scripted stand-in for SMS Partner at the HttpMessageHandler level: it answers from a script (per page, or per
/// call) and records every request. An unscripted request fails the test loudly rather than looping.
/// </summary>
internal sealed class ScriptedHttpHandler(Func<RecordedRequest, int, HttpResponseMessage> respond) : HttpMessageHandler
{
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private int _calls;

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    /// <summary>Page n (from the <c>page</c> query value) answers <paramref name="pages"/>[n-1] as JSON with HTTP 200.</summary>
    public static ScriptedHttpHandler Pages(params string[] pages) => new((request, _) =>
    {
        var page = request.Page ?? 1;
        if (page < 1 || page > pages.Length)
        {
            throw new InvalidOperationException($"Unscripted page {page} requested.");
        }

        return Json(pages[page - 1]);
    });

    /// <summary>Call n answers <paramref name="calls"/>[n-1], whatever the page.</summary>
    public static ScriptedHttpHandler Calls(params Func<RecordedRequest, HttpResponseMessage>[] calls) => new((request, index) =>
        index < calls.Length ? calls[index](request) : throw new InvalidOperationException($"Unscripted call {index + 1} ({request.Uri.PathAndQuery})."));

    /// <summary>Every call answers the same way.</summary>
    public static ScriptedHttpHandler Always(Func<RecordedRequest, HttpResponseMessage> respond) => new((request, _) => respond(request));

    public static HttpResponseMessage Json(string body, HttpStatusCode status = HttpStatusCode.OK) =>
        Text(body, "application/json", status);

    public static HttpResponseMessage Text(string body, string mediaType, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, mediaType) };

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var uri = request.RequestUri ?? throw new InvalidOperationException("No request URI.");
        var recorded = new RecordedRequest(
            request.Method,
            uri,
            HttpUtility.ParseQueryString(uri.Query),
            request.Headers.Accept.Select(a => a.MediaType ?? string.Empty).ToList());
        _requests.Enqueue(recorded);
        var index = Interlocked.Increment(ref _calls) - 1;
        var response = respond(recorded, index);
        response.RequestMessage = request;
        return Task.FromResult(response);
    }
}

/// <summary>Builds <c>bulk-status-by-tag</c> JSON bodies.</summary>
internal static class SmsPartnerBodies
{
    public static string Row(string phone, string status = "Delivered", string stopSms = "false", string date = "\"1517989111\"") =>
        $$"""{"phoneNumber":"{{phone}}","status":"{{status}}","stopSMS":{{stopSms}},"date":{{date}}}""";

    /// <param name="currentPage">JSON text of currentPage (a number or a quoted string), or null to leave it out.</param>
    /// <param name="total">JSON text of total, or null to leave it out.</param>
    public static string Page(string? currentPage, string? total, params string[] rows)
    {
        var fields = new List<string> { "\"success\":true", "\"code\":200" };
        if (currentPage is not null)
        {
            fields.Add($"\"currentPage\":{currentPage}");
        }

        if (total is not null)
        {
            fields.Add($"\"total\":{total}");
        }

        fields.Add($"\"StatutResponse_List\":[{string.Join(',', rows)}]");
        return "{" + string.Join(',', fields) + "}";
    }

    public static string Refused(int code, string message = "Refused") =>
        $$"""{"success":false,"code":{{code}},"message":"{{message}}"}""";

    /// <summary>Rows +336000000{from}.. as numbered phones.</summary>
    public static string[] Rows(int from, int count, string status = "Delivered") =>
        Enumerable.Range(from, count).Select(i => Row($"+336{i:D8}", status)).ToArray();
}
