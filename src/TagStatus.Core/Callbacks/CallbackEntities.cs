using Azure;
using Azure.Data.Tables;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Callbacks;

/// <summary>
/// A subscriber: of one tag, a row in the tag's partition of the <c>Tags</c> table; of any tag, a row in the
/// <c>anysub</c> partition of the <c>TagIndex</c> table (one partition, read whole for every event).
/// </summary>
internal sealed class SubscriptionEntity : ITableEntity
{
    public string PartitionKey { get; set; } = string.Empty;
    public string RowKey { get; set; } = string.Empty;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    /// <summary>Empty for a subscription to any tag.</summary>
    public string Tag { get; set; } = string.Empty;
    public string CallbackUrl { get; set; } = string.Empty;
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Space-separated event types; null on rows written before events could be chosen (every type).</summary>
    public string? Events { get; set; }

    /// <summary>Only tags that start with this (any-tag subscriptions).</summary>
    public string? TagPrefix { get; set; }

    /// <summary>Null on rows written before per-subscription secrets: the first generation.</summary>
    public int? SecretGeneration { get; set; }
    public int? PreviousSecretGeneration { get; set; }
    public DateTimeOffset? PreviousSecretValidUntil { get; set; }

    public Subscription ToSubscription() => new(
        RowKey[TableKeys.SubscriptionPrefix.Length..],
        Tag.Length == 0 ? null : Tag,
        new Uri(CallbackUrl),
        CreatedAt)
    {
        Events = Events is null ? TagEvent.StateTypes : Events.Split(' ', StringSplitOptions.RemoveEmptyEntries),
        TagPrefix = TagPrefix,
        Secrets = new SecretGenerations(SecretGeneration ?? 1, PreviousSecretGeneration, PreviousSecretValidUntil),
        ETag = ETag,
    };

    public static SubscriptionEntity From(Subscription subscription) => new()
    {
        PartitionKey = subscription.Tag is null ? TableKeys.AnyTagSubscriptionPartition : TableKeys.Encode(subscription.Tag),
        RowKey = TableKeys.SubscriptionPrefix + subscription.Id,
        Tag = subscription.Tag ?? string.Empty,
        CallbackUrl = subscription.CallbackUrl.AbsoluteUri,
        CreatedAt = subscription.CreatedAt,
        Events = string.Join(' ', subscription.Events),
        TagPrefix = subscription.TagPrefix,
        SecretGeneration = subscription.Secrets.Current,
        PreviousSecretGeneration = subscription.Secrets.Previous,
        PreviousSecretValidUntil = subscription.Secrets.PreviousValidUntil,
        ETag = subscription.ETag,
    };
}

/// <summary>One event owed to one subscriber: the outbox row, kept until delivered, refused or given up on.</summary>
internal class DeliveryEntity : ITableEntity
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

    /// <summary>The subscription is to any tag: it lives in the <c>anysub</c> partition, not the tag's.</summary>
    public bool AnyTag { get; set; }

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
        AnyTag = Subscription.Tag is null,
        Body = Body,
        Attempts = 0,
        NextAttemptAt = CreatedAt,
        CreatedAt = CreatedAt,
    };
}

/// <summary>A webhook subscription: to one tag, or (<paramref name="Tag"/> null) to any tag whose name starts with <see cref="TagPrefix"/>.</summary>
public sealed record Subscription(string Id, string? Tag, Uri CallbackUrl, DateTimeOffset CreatedAt)
{
    /// <summary>The event types sent to it; the tag's state events unless it chose.</summary>
    public IReadOnlyList<string> Events { get; init; } = TagEvent.StateTypes;

    public string? TagPrefix { get; init; }

    public SecretGenerations Secrets { get; init; } = SecretGenerations.First;

    /// <summary>The stored row's version, for a conditional rotation.</summary>
    public ETag ETag { get; init; }

    public bool Wants(string eventType, string tag) =>
        Events.Contains(eventType, StringComparer.Ordinal) && (TagPrefix is null || tag.StartsWith(TagPrefix, StringComparison.Ordinal));
}

/// <summary>An outbox row, as read for an attempt.</summary>
public sealed record PendingDelivery(
    string Tag, string EventId, string EventType, string SubscriptionId, Uri CallbackUrl, byte[] Body, int Attempts,
    DateTimeOffset NextAttemptAt, DateTimeOffset? ClaimedUntil, ETag ETag)
{
    /// <summary>The subscription is to any tag (see <see cref="Subscription.Tag"/>).</summary>
    public bool AnyTag { get; init; }
}
