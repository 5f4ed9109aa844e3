using System.Text.Encodings.Web;
using System.Text.Json;

namespace TagStatus.Core.Json;

/// <summary>The options of every JSON the service writes: camelCase, times as UTC seconds, and no needless escaping.</summary>
public static class JsonDefaults
{
    /// <remarks>
    /// The default encoder escapes <c>+</c> and <c>&amp;</c> (<c>\u002B33…</c>), which is valid but unreadable for phone
    /// numbers and links. Relaxed escaping is safe here: these documents are served as JSON, never inlined in HTML.
    /// </remarks>
    public static JsonSerializerOptions Create() => new(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new UtcSecondsConverter() },
    };
}
