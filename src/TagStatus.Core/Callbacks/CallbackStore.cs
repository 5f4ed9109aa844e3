using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using TagStatus.Core.Domain;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Callbacks;

/// <summary>Subscriptions and the callback outbox, kept in each tag's partition of the <c>Tags</c> table: every query names its partition.</summary>
public interface ICallbackStore
{
    Task<IReadOnlyList<Subscription>> GetSubscriptionsAsync(Tag tag, CancellationToken cancellationToken);

    /// <summary>Every subscription to any tag: one partition, whose size is the number of such subscribers.</summary>
    Task<IReadOnlyList<Subscription>> GetAnyTagSubscriptionsAsync(CancellationToken cancellationToken);

    /// <summary>One subscription of <paramref name="tag"/>, or of any tag when it is null; null when there is none.</summary>
    Task<Subscription?> GetSubscriptionAsync(Tag? tag, string subscriptionId, CancellationToken cancellationToken);

    Task AddSubscriptionAsync(Subscription subscription, CancellationToken cancellationToken);

    /// <summary>Stores new secret generations, if the row is still the version read. False when it changed or is gone.</summary>
    Task<bool> ReplaceSecretsAsync(Subscription subscription, SecretGenerations secrets, CancellationToken cancellationToken);

    /// <summary>
    /// Ends a subscription of <paramref name="tag"/> (or of any tag when null). What a tag's subscriber was still owed
    /// is dropped with it; an any-tag subscriber's rows are dropped by the dispatcher when it finds the subscription gone.
    /// </summary>
    Task<bool> RemoveSubscriptionAsync(Tag? tag, string subscriptionId, CancellationToken cancellationToken);

    /// <summary>One outbox row, or null when it is gone (delivered, refused for good, or unsubscribed).</summary>
    Task<PendingDelivery?> GetDeliveryAsync(Tag tag, string eventId, string subscriptionId, CancellationToken cancellationToken);

    /// <summary>
    /// Outbox rows of one tag whose attempt was due before <paramref name="before"/>: the sweep's way of finding rows
    /// that lost their queue message, one partition at a time.
    /// </summary>
    Task<IReadOnlyList<PendingDelivery>> GetOverdueDeliveriesAsync(Tag tag, DateTimeOffset before, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the row for one attempt until <paramref name="claimUntil"/> (ETag-conditional), so a duplicate message never
    /// posts the same event at the same time. Null when someone else changed or took it first.
    /// </summary>
    Task<PendingDelivery?> ClaimDeliveryAsync(PendingDelivery delivery, DateTimeOffset claimUntil, CancellationToken cancellationToken);

    /// <summary>Done with a delivery (sent, refused for good, or given up). False when someone else already was.</summary>
    Task<bool> RemoveDeliveryAsync(PendingDelivery delivery, CancellationToken cancellationToken);

    /// <summary>Records a failed attempt and releases the claim. False when someone else already handled the delivery.</summary>
    Task<bool> PostponeDeliveryAsync(PendingDelivery delivery, DateTimeOffset nextAttemptAt, CancellationToken cancellationToken);
}

public sealed class TableCallbackStore(TableServiceClient service, IOptions<TagStoreOptions> options) : ICallbackStore
{
    private readonly TableClient _tags = service.GetTableClient(options.Value.TablePrefix + "Tags");
    private readonly TableClient _index = service.GetTableClient(options.Value.TablePrefix + "TagIndex");
    private readonly TableInitializer _initializer = new(service, options.Value);

    public async Task<IReadOnlyList<Subscription>> GetSubscriptionsAsync(Tag tag, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var partition = TableKeys.ForTag(tag);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partition} and RowKey ge {TableKeys.SubscriptionPrefix} and RowKey lt {TableKeys.SubscriptionPrefix + "\u007f"}");
        return await ReadSubscriptionsAsync(_tags, filter, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<Subscription>> GetAnyTagSubscriptionsAsync(CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.AnyTagSubscriptionPartition}");
        return await ReadSubscriptionsAsync(_index, filter, cancellationToken).ConfigureAwait(false);
    }

    public async Task<Subscription?> GetSubscriptionAsync(Tag? tag, string subscriptionId, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var (table, partition) = Home(tag);
        var response = await StorageFailures.Guard(() => table.GetEntityIfExistsAsync<SubscriptionEntity>(
            partition, TableKeys.SubscriptionPrefix + subscriptionId, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity ? entity.ToSubscription() : null;
    }

    public async Task AddSubscriptionAsync(Subscription subscription, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var table = subscription.Tag is null ? _index : _tags;
        await StorageFailures.Guard(() => table.AddEntityAsync(SubscriptionEntity.From(subscription), cancellationToken)).ConfigureAwait(false);
    }

    public async Task<bool> ReplaceSecretsAsync(Subscription subscription, SecretGenerations secrets, CancellationToken cancellationToken)
    {
        var entity = SubscriptionEntity.From(subscription with { Secrets = secrets });
        var table = subscription.Tag is null ? _index : _tags;
        try
        {
            await table.UpdateEntityAsync(entity, subscription.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return false;
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw StorageFailures.Unavailable(e);
        }
    }

    public async Task<bool> RemoveSubscriptionAsync(Tag? tag, string subscriptionId, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        if (tag is null)
        {
            return await DeleteAsync(_index, TableKeys.AnyTagSubscriptionPartition, TableKeys.SubscriptionPrefix + subscriptionId, ETag.All, cancellationToken).ConfigureAwait(false);
        }

        var partition = TableKeys.ForTag(tag.Value);
        var removed = await DeleteAsync(partition, TableKeys.SubscriptionPrefix + subscriptionId, ETag.All, cancellationToken).ConfigureAwait(false);

        // What was still owed to the subscriber is dropped with it: nobody asked for it any more.
        var owed = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partition} and RowKey ge {TableKeys.DeliveryPrefix} and RowKey lt {TableKeys.DeliveryPrefix + "\u007f"} and SubscriptionId eq {subscriptionId}");
        await foreach (var delivery in StorageFailures.Guarded(_tags.QueryAsync<DeliveryEntity>(owed, select: [nameof(DeliveryEntity.RowKey)], cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            await DeleteAsync(partition, delivery.RowKey, ETag.All, cancellationToken).ConfigureAwait(false);
        }

        return removed;
    }

    public async Task<PendingDelivery?> GetDeliveryAsync(Tag tag, string eventId, string subscriptionId, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var response = await StorageFailures.Guard(() => _tags.GetEntityIfExistsAsync<DeliveryEntity>(
            TableKeys.ForTag(tag), CallbackDelivery.RowKeyOf(eventId, subscriptionId), cancellationToken: cancellationToken)).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity ? ToPending(entity) : null;
    }

    public async Task<IReadOnlyList<PendingDelivery>> GetOverdueDeliveriesAsync(Tag tag, DateTimeOffset before, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {TableKeys.ForTag(tag)} and RowKey ge {TableKeys.DeliveryPrefix} and RowKey lt {TableKeys.DeliveryPrefix + "\u007f"}");
        var result = new List<PendingDelivery>();
        await foreach (var entity in StorageFailures.Guarded(_tags.QueryAsync<DeliveryEntity>(filter, cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            if (entity.NextAttemptAt < before && (entity.ClaimedUntil ?? DateTimeOffset.MinValue) < before)
            {
                result.Add(ToPending(entity));
            }
        }

        return result;
    }

    public async Task<PendingDelivery?> ClaimDeliveryAsync(PendingDelivery delivery, DateTimeOffset claimUntil, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(TableKeys.Encode(delivery.Tag), CallbackDelivery.RowKeyOf(delivery.EventId, delivery.SubscriptionId))
        {
            [nameof(DeliveryEntity.ClaimedUntil)] = claimUntil,
        };
        try
        {
            var response = await _tags.UpdateEntityAsync(entity, delivery.ETag, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
            return delivery with { ClaimedUntil = claimUntil, ETag = response.Headers.ETag ?? ETag.All };
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return null;
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw StorageFailures.Unavailable(e);
        }
    }

    public async Task<bool> RemoveDeliveryAsync(PendingDelivery delivery, CancellationToken cancellationToken) =>
        await DeleteAsync(TableKeys.Encode(delivery.Tag), CallbackDelivery.RowKeyOf(delivery.EventId, delivery.SubscriptionId), delivery.ETag, cancellationToken).ConfigureAwait(false);

    public async Task<bool> PostponeDeliveryAsync(PendingDelivery delivery, DateTimeOffset nextAttemptAt, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(TableKeys.Encode(delivery.Tag), CallbackDelivery.RowKeyOf(delivery.EventId, delivery.SubscriptionId))
        {
            [nameof(DeliveryEntity.Attempts)] = delivery.Attempts + 1,
            [nameof(DeliveryEntity.NextAttemptAt)] = nextAttemptAt,
            // A null would be left out of a merge and keep the claim: release it with a time long past instead.
            [nameof(DeliveryEntity.ClaimedUntil)] = DateTimeOffset.UnixEpoch,
        };
        try
        {
            await _tags.UpdateEntityAsync(entity, delivery.ETag, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return false;
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw StorageFailures.Unavailable(e);
        }
    }

    private static PendingDelivery ToPending(DeliveryEntity entity) => new(
        entity.Tag, entity.EventId, entity.EventType, entity.SubscriptionId, new Uri(entity.CallbackUrl), entity.Body, entity.Attempts,
        entity.NextAttemptAt, entity.ClaimedUntil, entity.ETag)
    {
        AnyTag = entity.AnyTag,
    };

    private (TableClient Table, string Partition) Home(Tag? tag) =>
        tag is { } one ? (_tags, TableKeys.ForTag(one)) : (_index, TableKeys.AnyTagSubscriptionPartition);

    private static async Task<IReadOnlyList<Subscription>> ReadSubscriptionsAsync(TableClient table, string filter, CancellationToken cancellationToken)
    {
        var result = new List<Subscription>();
        await foreach (var entity in StorageFailures.Guarded(table.QueryAsync<SubscriptionEntity>(filter, cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            result.Add(entity.ToSubscription());
        }

        return result;
    }

    private Task<bool> DeleteAsync(string partitionKey, string rowKey, ETag etag, CancellationToken cancellationToken) =>
        DeleteAsync(_tags, partitionKey, rowKey, etag, cancellationToken);

    private static async Task<bool> DeleteAsync(TableClient table, string partitionKey, string rowKey, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            // A missing row comes back as a 404 response, not an exception.
            var response = await table.DeleteEntityAsync(partitionKey, rowKey, etag, cancellationToken).ConfigureAwait(false);
            return response.Status != 404;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return false;
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw StorageFailures.Unavailable(e);
        }
    }
}
