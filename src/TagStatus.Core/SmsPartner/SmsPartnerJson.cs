using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TagStatus.Core.SmsPartner;

/// <summary>One page of <c>bulk-status-by-tag</c>, or a failure envelope. Every field is optional: nothing about it is trusted.</summary>
internal sealed class StatusPage
{
    public bool? Success { get; set; }

    [JsonConverter(typeof(FlexibleInt32Converter))]
    public int? Code { get; set; }

    public string? Message { get; set; }

    [JsonConverter(typeof(FlexibleInt32Converter))]
    public int? CurrentPage { get; set; }

    [JsonConverter(typeof(FlexibleInt32Converter))]
    public int? Total { get; set; }

    [JsonPropertyName("StatutResponse_List")]
    public List<StatusRow>? Rows { get; set; }
}

internal sealed class StatusRow : IEquatable<StatusRow>
{
    public string? PhoneNumber { get; set; }

    public string? Status { get; set; }

    [JsonPropertyName("stopSMS")]
    [JsonConverter(typeof(FlexibleBooleanConverter))]
    public bool? StopSms { get; set; }

    [JsonConverter(typeof(FlexibleStringConverter))]
    public string? Date { get; set; }

    public bool Equals(StatusRow? other) =>
        other is not null && PhoneNumber == other.PhoneNumber && Status == other.Status && StopSms == other.StopSms && Date == other.Date;

    public override bool Equals(object? obj) => Equals(obj as StatusRow);

    public override int GetHashCode() => HashCode.Combine(PhoneNumber, Status, StopSms, Date);
}

[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true, NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(StatusPage))]
internal sealed partial class SmsPartnerJsonContext : JsonSerializerContext;

/// <summary>Reads a number written as a number or as a string (<c>"total":"2"</c> on sibling endpoints).</summary>
internal sealed class FlexibleInt32Converter : JsonConverter<int?>
{
    public override bool HandleNull => true;

    public override int? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.Number when reader.TryGetInt32(out var number) => number,
        JsonTokenType.String when int.TryParse(reader.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
        JsonTokenType.String when string.IsNullOrWhiteSpace(reader.GetString()) => null,
        _ => throw new JsonException($"Expected an integer, found {reader.TokenType}."),
    };

    public override void Write(Utf8JsonWriter writer, int? value, JsonSerializerOptions options) =>
        throw new NotSupportedException("Only read.");
}

/// <summary>Reads <c>true</c>/<c>false</c>, <c>0</c>/<c>1</c> and their string forms.</summary>
internal sealed class FlexibleBooleanConverter : JsonConverter<bool?>
{
    public override bool HandleNull => true;

    public override bool? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.True:
                return true;
            case JsonTokenType.False:
                return false;
            case JsonTokenType.Number when reader.TryGetInt32(out var number) && number is 0 or 1:
                return number == 1;
            case JsonTokenType.String:
                var text = reader.GetString()?.Trim();
                if (string.Equals(text, "true", StringComparison.OrdinalIgnoreCase) || text == "1")
                {
                    return true;
                }

                if (string.Equals(text, "false", StringComparison.OrdinalIgnoreCase) || text == "0" || string.IsNullOrEmpty(text))
                {
                    return false;
                }

                break;
        }

        throw new JsonException($"Expected a boolean, found {reader.TokenType}.");
    }

    public override void Write(Utf8JsonWriter writer, bool? value, JsonSerializerOptions options) =>
        throw new NotSupportedException("Only read.");
}

/// <summary>Reads a string, or a number kept as its text (<c>"date":1517989111</c>).</summary>
internal sealed class FlexibleStringConverter : JsonConverter<string?>
{
    public override bool HandleNull => true;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Number => Utf8Text(ref reader),
        _ => throw new JsonException($"Expected a string or number, found {reader.TokenType}."),
    };

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options) =>
        throw new NotSupportedException("Only read.");

    private static string Utf8Text(ref Utf8JsonReader reader) =>
        System.Text.Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);
}

internal static class UpstreamDates
{
    /// <summary>SMS Partner sends Unix seconds as a string; anything unreadable becomes null rather than a failure.</summary>
    public static DateTimeOffset? FromUnixSeconds(string? text)
    {
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds)
            && seconds > 0 && seconds < 253_402_300_799)
        {
            return DateTimeOffset.FromUnixTimeSeconds(seconds);
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
            ? parsed
            : null;
    }
}
