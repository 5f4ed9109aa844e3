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
    public const string RefreshClaimRow = "refreshing";
    public const string SubscriptionPrefix = "sub~";
    public const string DeliveryPrefix = "out~";
    public const string TrackedPartition = "tracked";
    public const string DuePartition = "due";
    public const string SweepPartition = "sweep";
    public const string SweepRow = "last";
    public const string RetentionRow = "retention";

    /// <summary>TagIndex partitions of what belongs to no single tag: any-tag subscriptions, and deliveries refused for good.</summary>
    public const string AnyTagSubscriptionPartition = "anysub";
    public const string DeadLetterPartition = "deadletter";

    public static string Encode(string value) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(value));

    public static string Decode(string key) => Encoding.UTF8.GetString(Base64Url.DecodeFromChars(key));

    public static string ForTag(Tag tag) => Encode(tag.Value);

    public static string ForRecipient(string phoneNumber, int occurrence) =>
        string.Create(CultureInfo.InvariantCulture, $"{RecipientKeyPrefix(phoneNumber)}{occurrence:D4}");

    /// <summary>
    /// What every row key of a number starts with. Row keys sort as these prefixes do (a prefix ends in <c>~</c>, which
    /// no encoded number holds, so none is the start of another), so a range of them is a RowKey range.
    /// </summary>
    public static string RecipientKeyPrefix(string phoneNumber) => Encode(phoneNumber) + "~";

    /// <summary>The listing key of the first instant after <paramref name="firstSeenAfter"/>: newer tags sort before it.</summary>
    public static string IndexBound(DateTimeOffset firstSeenAfter) =>
        (DateTimeOffset.MaxValue.UtcTicks - firstSeenAfter.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);

    /// <summary>Soonest first: the due row key starts with the due time, then the tag.</summary>
    public static string ForDue(DateTimeOffset dueAt, Tag tag) =>
        string.Create(CultureInfo.InvariantCulture, $"{dueAt.UtcTicks:D19}~{ForTag(tag)}");

    /// <summary>The exclusive upper bound of the due rows whose time is before <paramref name="time"/>.</summary>
    public static string DueBefore(DateTimeOffset time) => time.UtcTicks.ToString("D19", CultureInfo.InvariantCulture);

    /// <summary>Newest first: the index row key starts with the inverted first-seen time.</summary>
    public static string ForIndex(DateTimeOffset firstSeenAt, Tag tag) =>
        string.Create(CultureInfo.InvariantCulture, $"{DateTimeOffset.MaxValue.UtcTicks - firstSeenAt.UtcTicks:D19}~{ForTag(tag)}");
}
