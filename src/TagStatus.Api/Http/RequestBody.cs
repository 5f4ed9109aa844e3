using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace TagStatus.Api.Http;

public static class RequestBody
{
    /// <summary>Bodies here are a few fields: anything larger is refused before it is read.</summary>
    public const int MaxBytes = 16 * 1024;

    /// <summary>Reads a small JSON body; on failure returns the 400 to answer with.</summary>
    public static async Task<(T? Value, BodyResult? Error)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo, string example, CancellationToken cancellationToken)
        where T : class
    {
        if (request.ContentLength > MaxBytes)
        {
            return (null, ApiResults.Problem(413, "body-too-large", "The body is too large.", $"The body may hold at most {MaxBytes} bytes."));
        }

        try
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (buffer.Length > MaxBytes)
            {
                return (null, ApiResults.Problem(413, "body-too-large", "The body is too large.", $"The body may hold at most {MaxBytes} bytes."));
            }

            var value = buffer.Length == 0 ? null : JsonSerializer.Deserialize(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), typeInfo);
            return value is null ? (null, ApiResults.BadRequest("body", $"The body must be JSON like {example}.")) : (value, null);
        }
        catch (JsonException)
        {
            return (null, ApiResults.BadRequest("body", $"The body is not valid JSON; send JSON like {example}."));
        }
    }
}
