using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TagStatus.Core.Json;

/// <summary>Times as ISO 8601 UTC to the second, <c>2026-11-27T10:00:00Z</c>: the one format of every JSON the service writes.</summary>
public sealed class UtcSecondsConverter : JsonConverter<DateTimeOffset>
{
    public const string Format = "yyyy-MM-dd'T'HH:mm:ss'Z'";

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetDateTimeOffset();

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture));
}
