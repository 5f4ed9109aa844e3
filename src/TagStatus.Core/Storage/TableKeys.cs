using System.Buffers.Text;
using System.Globalization;
using System.Text;
using TagStatus.Core.Domain;

namespace TagStatus.Core.Storage;

/// <summary>
/// Table Storage keys forbid <c>/ \ # ?</c> and control characters, so every key made from outside data is
/// base64url-encoded UTF-8: any tag or phone number round-trips, and no input can reach into another key's range.
/// </summary>
internal static class TableKeys
{
    public const string SummaryRow = "summary";
    public const string SubscriptionPrefix = "sub~";
    public const string DeliveryPrefix = "out~";
    public const string TrackedPartition = "tracked";

    public static string Encode(string value) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(value));

    public static string Decode(string key) => Encoding.UTF8.GetString(Base64Url.DecodeFromChars(key));

    public static string ForTag(Tag tag) => Encode(tag.Value);

    public static string ForRecipient(string phoneNumber, int occurrence) =>
        string.Create(CultureInfo.InvariantCulture, $"{Encode(phoneNumber)}~{occurrence:D4}");

    /// <summary>Newest first: the index row key starts with the inverted first-seen time.</summary>
    public static string ForIndex(DateTimeOffset firstSeenAt, Tag tag) =>
        string.Create(CultureInfo.InvariantCulture, $"{DateTimeOffset.MaxValue.UtcTicks - firstSeenAt.UtcTicks:D19}~{ForTag(tag)}");
}
