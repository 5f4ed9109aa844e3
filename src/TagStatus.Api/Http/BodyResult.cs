using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace TagStatus.Api.Http;

/// <summary>
/// An already-serialized answer: status, content type, headers and bytes. It needs no MVC formatters, so it runs the
/// same under the Functions worker, the local host and a <see cref="DefaultHttpContext"/> in tests.
/// </summary>
public sealed class BodyResult(int statusCode, string? contentType, ReadOnlyMemory<byte> body, IReadOnlyDictionary<string, string>? headers = null)
    : IActionResult
{
    public int StatusCode { get; } = statusCode;

    public string? ContentType { get; } = contentType;

    public ReadOnlyMemory<byte> Body { get; } = body;

    public IReadOnlyDictionary<string, string> Headers { get; } = headers ?? new Dictionary<string, string>();

    public async Task ExecuteResultAsync(ActionContext context)
    {
        var response = context.HttpContext.Response;
        response.StatusCode = StatusCode;
        foreach (var (name, value) in Headers)
        {
            response.Headers[name] = value;
        }

        if (ContentType is not null)
        {
            response.ContentType = ContentType;
        }

        if (!Body.IsEmpty)
        {
            response.ContentLength = Body.Length;
            await response.Body.WriteAsync(Body, context.HttpContext.RequestAborted).ConfigureAwait(false);
        }
    }
}
