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
            return (null, TooLarge());
        }

        try
        {
            // Read at most one byte past the limit: a body without a Content-Length is never taken in whole.
            var buffer = new byte[MaxBytes + 1];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
            {
                length += read;
            }

            if (length > MaxBytes)
            {
                return (null, TooLarge());
            }

            var value = length == 0 ? null : JsonSerializer.Deserialize(buffer.AsSpan(0, length), typeInfo);
            return value is null ? (null, ApiResults.BadRequest("body", $"The body must be JSON like {example}.")) : (value, null);
        }
        catch (Exception e) when (e is IOException or BadHttpRequestException)
        {
            return (null, ApiResults.BadRequest("body", "The body could not be read to its end."));
        }
        catch (JsonException)
        {
            return (null, ApiResults.BadRequest("body", $"The body is not valid JSON; send JSON like {example}."));
        }
    }

    private static BodyResult TooLarge() =>
        ApiResults.Problem(413, "body-too-large", "The body is too large.", $"The body may hold at most {MaxBytes} bytes.");
}
