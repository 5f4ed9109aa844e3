using TagStatus.Core.Domain;

namespace TagStatus.Tests.Support;

/// <summary>Small builders for domain values used across the tests.</summary>
internal static class Data
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);

    public static Recipient Recipient(string phone, DeliveryStatus status, int occurrence = 0, bool stopSms = false, DateTimeOffset? statusAt = null) =>
        new(phone, occurrence, status, RawOf(status), stopSms, statusAt);

    public static UpstreamRecipient Upstream(string phone, string rawStatus, bool stopSms = false, DateTimeOffset? statusAt = null) =>
        new(phone, rawStatus, stopSms, statusAt);

    public static string RawOf(DeliveryStatus status) => status switch
    {
        DeliveryStatus.Delivered => "Delivered",
        DeliveryStatus.NotDelivered => "Not delivered",
        DeliveryStatus.Waiting => "Waiting",
        _ => "Queued",
    };

    public static TagSummary Summary(
        string tag,
        TagState state,
        TagCounts counts,
        DateTimeOffset firstSeenAt,
        DateTimeOffset refreshedAt,
        bool tracked = false,
        DateTimeOffset? completedAt = null,
        DateTimeOffset? nextRefreshAt = null) =>
        new(Tag.Parse(tag), state, counts, tracked, firstSeenAt, refreshedAt, completedAt, nextRefreshAt);
}
