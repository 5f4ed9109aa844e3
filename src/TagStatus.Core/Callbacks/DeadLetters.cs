using System.Text.RegularExpressions;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using TagStatus.Core.Queues;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Callbacks;

/// <summary>
/// A delivery the receiver refused as malformed or too large (400, 413): kept for an operator to look at and replay,
/// instead of being retried (the same bytes would be refused again) or lost.
/// </summary>
/// <param name="CallbackTarget">Scheme, host and path only: the query of a callback URL often carries a signature.</param>
public sealed record DeadLetter(
    string Id, string Tag, string EventId, string EventType, string SubscriptionId, string CallbackTarget, int Status, int Attempts, DateTimeOffset DeadLetteredAt);

public sealed record DeadLetterPage(IReadOnlyList<DeadLetter> Items, string? ContinuationToken);

/// <summary>The dead letters, in the <c>deadletter</c> partition of <c>TagIndex</c>: its size is what is waiting for an operator.</summary>
public interface IDeadLetterStore
{
    /// <summary>Keeps a copy of the delivery (the same row again when it is refused again).</summary>
    Task AddAsync(PendingDelivery delivery, int status, DateTimeOffset at, CancellationToken cancellationToken);

    Task<DeadLetterPage> ListAsync(string? continuationToken, int max, CancellationToken cancellationToken);

    /// <summary>Writes the delivery back into its tag's outbox as a first attempt due at <paramref name="now"/>; null when there is no such dead letter.</summary>
    Task<PendingDelivery?> RestoreAsync(string id, DateTimeOffset now, CancellationToken cancellationToken);

    Task RemoveAsync(string id, CancellationToken cancellationToken);
}

internal sealed class DeadLetterEntity : DeliveryEntity
{
    public int LastStatus { get; set; }
    public DateTimeOffset DeadLetteredAt { get; set; }
}

public sealed partial class TableDeadLetterStore(TableServiceClient service, IOptions<TagStoreOptions> options) : IDeadLetterStore
{
    private readonly TableClient _tags = service.GetTableClient(options.Value.TablePrefix + "Tags");
    private readonly TableClient _index = service.GetTableClient(options.Value.TablePrefix + "TagIndex");
    private readonly TableInitializer _initializer = new(service, options.Value);

    /// <summary>The id of a dead letter: the event id, a dot, the subscription id (both 32 lowercase hex characters).</summary>
    public static string IdOf(string eventId, string subscriptionId) => $"{eventId}.{subscriptionId}";

    public static bool IsId(string id) => IdPattern().IsMatch(id);

    [GeneratedRegex("^[0-9a-f]{32}\\.[0-9a-f]{32}$")]
    private static partial Regex IdPattern();

    public async Task AddAsync(PendingDelivery delivery, int status, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var entity = new DeadLetterEntity
        {
            PartitionKey = TableKeys.DeadLetterPartition,
            RowKey = IdOf(delivery.EventId, delivery.SubscriptionId),
            Tag = delivery.Tag,
            EventId = delivery.EventId,
            EventType = delivery.EventType,
            SubscriptionId = delivery.SubscriptionId,
            CallbackUrl = delivery.CallbackUrl.AbsoluteUri,
            AnyTag = delivery.AnyTag,
            Body = delivery.Body,
            Attempts = delivery.Attempts + 1,
            CreatedAt = delivery.NextAttemptAt,
            LastStatus = status,
            DeadLetteredAt = at,
        };
        await StorageFailures.Guard(() => _index.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken)).ConfigureAwait(false);
    }

    public async Task<DeadLetterPage> ListAsync(string? continuationToken, int max, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.DeadLetterPartition}");
        var page = await StorageFailures.Guard(async () =>
        {
            await foreach (var first in _index.QueryAsync<DeadLetterEntity>(filter, maxPerPage: max, cancellationToken: cancellationToken).AsPages(continuationToken, max).ConfigureAwait(false))
            {
                return first;
            }

            return null;
        }).ConfigureAwait(false);
        var items = page?.Values.Select(e => new DeadLetter(
            e.RowKey, e.Tag, e.EventId, e.EventType, e.SubscriptionId, CallbackDispatcher.Describe(new Uri(e.CallbackUrl)), e.LastStatus, e.Attempts, e.DeadLetteredAt)).ToList();
        return new DeadLetterPage(items ?? [], page?.ContinuationToken);
    }

    public async Task<PendingDelivery?> RestoreAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var found = await StorageFailures.Guard(() => _index.GetEntityIfExistsAsync<DeadLetterEntity>(TableKeys.DeadLetterPartition, id, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (!found.HasValue || found.Value is not { } dead)
        {
            return null;
        }

        var delivery = new DeliveryEntity
        {
            PartitionKey = TableKeys.Encode(dead.Tag),
            RowKey = CallbackDelivery.RowKeyOf(dead.EventId, dead.SubscriptionId),
            Tag = dead.Tag,
            EventId = dead.EventId,
            EventType = dead.EventType,
            SubscriptionId = dead.SubscriptionId,
            CallbackUrl = dead.CallbackUrl,
            AnyTag = dead.AnyTag,
            Body = dead.Body,
            Attempts = 0,
            NextAttemptAt = now,
            CreatedAt = dead.CreatedAt,
        };
        var written = await StorageFailures.Guard(() => _tags.UpsertEntityAsync(delivery, TableUpdateMode.Replace, cancellationToken)).ConfigureAwait(false);
        return new PendingDelivery(dead.Tag, dead.EventId, dead.EventType, dead.SubscriptionId, new Uri(dead.CallbackUrl), dead.Body, 0, now, null, written.Headers.ETag ?? ETag.All)
        {
            AnyTag = dead.AnyTag,
        };
    }

    public async Task RemoveAsync(string id, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        await StorageFailures.Guard(() => _index.DeleteEntityAsync(TableKeys.DeadLetterPartition, id, ETag.All, cancellationToken)).ConfigureAwait(false);
    }
}

/// <summary>Replays a dead letter: back into the outbox, then onto the callbacks queue, then out of the dead letters.</summary>
public sealed class DeadLetterService(IDeadLetterStore deadLetters, IWorkQueue queue, TimeProvider time)
{
    public Task<DeadLetterPage> ListAsync(string? continuationToken, int max, CancellationToken cancellationToken) =>
        deadLetters.ListAsync(continuationToken, max, cancellationToken);

    /// <returns>False when there is no such dead letter (already replayed, or never was).</returns>
    /// <remarks>A crash part-way leaves the dead letter listed; replaying it again rewrites the same outbox row, and the receiver sees the same <c>webhook-id</c>.</remarks>
    public async Task<bool> ReplayAsync(string id, CancellationToken cancellationToken)
    {
        var restored = await deadLetters.RestoreAsync(id, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (restored is null)
        {
            return false;
        }

        await queue.EnqueueDeliveryAsync(new DeliveryMessage(restored.Tag, restored.EventId, restored.SubscriptionId), TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        await deadLetters.RemoveAsync(id, cancellationToken).ConfigureAwait(false);
        return true;
    }
}
