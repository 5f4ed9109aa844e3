using System.Globalization;
using System.Text.RegularExpressions;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using TagStatus.Core.Queues;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Callbacks;

/// <summary>
/// A delivery kept for an operator to look at, replay or delete instead of being lost: the receiver refused it as
/// malformed or too large (400, 413: the same bytes would be refused again), or every attempt failed.
/// </summary>
/// <param name="CallbackTarget">Scheme, host and path only: the query of a callback URL often carries a signature.</param>
/// <param name="Status">The receiver's last answer; null when the last attempt got none (unreachable, timed out).</param>
/// <param name="Reason"><see cref="DeadLetterReasons.Refused"/> or <see cref="DeadLetterReasons.Exhausted"/>.</param>
public sealed record DeadLetter(
    string Id, string Tag, string EventId, string EventType, string SubscriptionId, string CallbackTarget, int? Status, int Attempts, DateTimeOffset DeadLetteredAt,
    string Reason);

/// <summary>Why a delivery became a dead letter.</summary>
public static class DeadLetterReasons
{
    /// <summary>The receiver answered 400 or 413: it refuses these bytes.</summary>
    public const string Refused = "refused";

    /// <summary>Every attempt (<see cref="CallbackOptions.MaxAttempts"/>) failed.</summary>
    public const string Exhausted = "exhausted";

    public static IReadOnlyList<string> All { get; } = [Refused, Exhausted];
}

public sealed record DeadLetterPage(IReadOnlyList<DeadLetter> Items, string? ContinuationToken);

/// <summary>The dead letters, in the <c>deadletter</c> partition of <c>TagIndex</c>: its size is what is waiting for an operator.</summary>
public interface IDeadLetterStore
{
    /// <summary>Keeps a copy of the delivery, keyed by <paramref name="at"/> so that pruning is a key range.</summary>
    Task AddAsync(PendingDelivery delivery, int? status, string reason, DateTimeOffset at, CancellationToken cancellationToken);

    Task<DeadLetterPage> ListAsync(string? continuationToken, int max, CancellationToken cancellationToken);

    /// <summary>Writes the delivery back into its tag's outbox as a first attempt due at <paramref name="now"/>; null when there is no such dead letter.</summary>
    Task<PendingDelivery?> RestoreAsync(string id, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Removes one dead letter; one already gone is fine.</summary>
    Task RemoveAsync(string id, CancellationToken cancellationToken);

    /// <summary>Removes the dead letters kept since before <paramref name="before"/>; returns how many.</summary>
    Task<int> PruneAsync(DateTimeOffset before, CancellationToken cancellationToken);
}

internal sealed class DeadLetterEntity : DeliveryEntity
{
    /// <summary>Null when the last attempt got no answer.</summary>
    public int? LastStatus { get; set; }
    public DateTimeOffset DeadLetteredAt { get; set; }

    /// <summary>Null on rows written before exhausted deliveries were kept: those were all refused.</summary>
    public string? Reason { get; set; }
}

public sealed partial class TableDeadLetterStore(TableServiceClient service, IOptions<TagStoreOptions> options) : IDeadLetterStore
{
    private readonly TableClient _tags = service.GetTableClient(options.Value.TablePrefix + "Tags");
    private readonly TableClient _index = service.GetTableClient(options.Value.TablePrefix + "TagIndex");
    private readonly TableInitializer _initializer = new(service, options.Value);

    /// <summary>
    /// The id (and row key) of a dead letter: <c>t</c>, the UTC ticks it was kept at (19 digits), a dot, the event id, a
    /// dot, the subscription id (both 32 lowercase hex characters). Keys sort by time, so pruning is a key range; the
    /// <c>t</c> sorts them after the rows of earlier versions (<c>{eventId}.{subscriptionId}</c>, hex first), which stay
    /// readable, replayable and deletable.
    /// </summary>
    public static string IdOf(DateTimeOffset at, string eventId, string subscriptionId) => $"{TimePrefix(at)}.{eventId}.{subscriptionId}";

    public static bool IsId(string id) => IdPattern().IsMatch(id);

    [GeneratedRegex("^(t[0-9]{19}\\.)?[0-9a-f]{32}\\.[0-9a-f]{32}$")]
    private static partial Regex IdPattern();

    private const string TimeKeyed = "t";

    private static string TimePrefix(DateTimeOffset at) => string.Create(CultureInfo.InvariantCulture, $"{TimeKeyed}{at.UtcTicks:D19}");

    public async Task AddAsync(PendingDelivery delivery, int? status, string reason, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var entity = new DeadLetterEntity
        {
            PartitionKey = TableKeys.DeadLetterPartition,
            RowKey = IdOf(at, delivery.EventId, delivery.SubscriptionId),
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
            Reason = reason,
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
            e.RowKey, e.Tag, e.EventId, e.EventType, e.SubscriptionId, CallbackDispatcher.Describe(new Uri(e.CallbackUrl)), e.LastStatus, e.Attempts, e.DeadLetteredAt,
            e.Reason ?? DeadLetterReasons.Refused)).ToList();
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

    public async Task<int> PruneAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        // Time-keyed rows: a key range reads only the expired ones. Rows of earlier versions sort before "t": a set that no
        // longer grows, read whole and judged by their time.
        var expired = TableClient.CreateQueryFilter(
            $"PartitionKey eq {TableKeys.DeadLetterPartition} and RowKey ge {TimeKeyed} and RowKey lt {TimePrefix(before)}");
        var legacy = TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.DeadLetterPartition} and RowKey lt {TimeKeyed}");
        var pruned = 0;
        foreach (var (filter, byTime) in new[] { (expired, false), (legacy, true) })
        {
            var rows = await StorageFailures.Guard(async () => await _index
                .QueryAsync<TableEntity>(filter, select: [nameof(ITableEntity.PartitionKey), nameof(ITableEntity.RowKey), nameof(DeadLetterEntity.DeadLetteredAt)], cancellationToken: cancellationToken)
                .Where(row => !byTime || row.GetDateTimeOffset(nameof(DeadLetterEntity.DeadLetteredAt)) < before)
                .ToListAsync(cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
            // A row deleted meanwhile (an operator, another run) does not fail the run.
            await TableTagStore.DeleteRowsAsync(_index, TableKeys.DeadLetterPartition, [.. rows.Select(row => row.RowKey)], cancellationToken).ConfigureAwait(false);
            pruned += rows.Count;
        }

        return pruned;
    }
}

/// <summary>
/// Lists, replays (back into the outbox, then onto the callbacks queue, then out of the dead letters), deletes and
/// prunes dead letters.
/// </summary>
public sealed class DeadLetterService(IDeadLetterStore deadLetters, IWorkQueue queue, IOptions<CallbackOptions> options, TimeProvider time)
{
    public Task<DeadLetterPage> ListAsync(string? continuationToken, int max, CancellationToken cancellationToken) =>
        deadLetters.ListAsync(continuationToken, max, cancellationToken);

    /// <summary>Forgets a dead letter (the receiver will never take it); idempotent.</summary>
    public Task DeleteAsync(string id, CancellationToken cancellationToken) => deadLetters.RemoveAsync(id, cancellationToken);

    /// <summary>Removes the dead letters kept longer than <see cref="CallbackOptions.DeadLetterDays"/>; the daily retention run calls it.</summary>
    public Task<int> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        deadLetters.PruneAsync(now - TimeSpan.FromDays(options.Value.DeadLetterDays), cancellationToken);

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
