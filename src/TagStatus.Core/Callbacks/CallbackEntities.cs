using Azure;
using Azure.Data.Tables;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Callbacks;

/// <summary>A subscriber of a tag: a row in the tag's partition of the <c>Tags</c> table.</summary>
internal sealed class SubscriptionEntity : ITableEntity
{
    public string PartitionKey { get; set; } = string.Empty;
    public string RowKey { get; set; } = string.Empty;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Tag { get; set; } = string.Empty;
    public string CallbackUrl { get; set; } = string.Empty;
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>One event owed to one subscriber: the outbox row, kept until delivered, refused or given up on.</summary>
internal sealed class DeliveryEntity : ITableEntity
{
    public string PartitionKey { get; set; } = string.Empty;
    public string RowKey { get; set; } = string.Empty;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Tag { get; set; } = string.Empty;
    public string EventId { get; set; } = string.Empty;
    public string EventType { get; set; } = string.Empty;
    public string SubscriptionId { get; set; } = string.Empty;
    public string CallbackUrl { get; set; } = string.Empty;

    /// <summary>The exact bytes to send and sign, the same on every attempt.</summary>
    public byte[] Body { get; set; } = [];

    public int Attempts { get; set; }
    public DateTimeOffset NextAttemptAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Set while one attempt is under way, so a duplicate queue message does not post at the same time.</summary>
    public DateTimeOffset? ClaimedUntil { get; set; }
}

/// <summary>An outbox row stored in the same transaction as the summary change that caused it.</summary>
public sealed record CallbackDelivery(string Tag, string EventId, string EventType, Subscription Subscription, byte[] Body, DateTimeOffset CreatedAt)
    : TagCompanionRow
{
    internal static string RowKeyOf(string eventId, string subscriptionId) => $"{TableKeys.DeliveryPrefix}{eventId}~{subscriptionId}";

    internal override ITableEntity ToEntity(string partitionKey) => new DeliveryEntity
    {
        PartitionKey = partitionKey,
        RowKey = RowKeyOf(EventId, Subscription.Id),
        Tag = Tag,
        EventId = EventId,
        EventType = EventType,
        SubscriptionId = Subscription.Id,
        CallbackUrl = Subscription.CallbackUrl.AbsoluteUri,
        Body = Body,
        Attempts = 0,
        NextAttemptAt = CreatedAt,
        CreatedAt = CreatedAt,
    };
}

public sealed record Subscription(string Id, string Tag, Uri CallbackUrl, DateTimeOffset CreatedAt);

/// <summary>An outbox row, as read for an attempt.</summary>
public sealed record PendingDelivery(
    string Tag, string EventId, string EventType, string SubscriptionId, Uri CallbackUrl, byte[] Body, int Attempts,
    DateTimeOffset NextAttemptAt, DateTimeOffset? ClaimedUntil, ETag ETag);
