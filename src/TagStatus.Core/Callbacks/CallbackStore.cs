using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using TagStatus.Core.Domain;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Callbacks;

/// <summary>Subscriptions and the callback outbox, kept in each tag's partition of the <c>Tags</c> table.</summary>
public interface ICallbackStore
{
    Task<IReadOnlyList<Subscription>> GetSubscriptionsAsync(Tag tag, CancellationToken cancellationToken);

    Task AddSubscriptionAsync(Subscription subscription, CancellationToken cancellationToken);

    Task<bool> RemoveSubscriptionAsync(Tag tag, string subscriptionId, CancellationToken cancellationToken);

    Task<IReadOnlyList<PendingDelivery>> GetDueDeliveriesAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>Done with a delivery (sent, refused for good, or given up). False when someone else already was.</summary>
    Task<bool> RemoveDeliveryAsync(PendingDelivery delivery, CancellationToken cancellationToken);

    /// <summary>Records a failed attempt. False when someone else already handled the delivery.</summary>
    Task<bool> PostponeDeliveryAsync(PendingDelivery delivery, DateTimeOffset nextAttemptAt, CancellationToken cancellationToken);
}

public sealed class TableCallbackStore(TableServiceClient service, IOptions<TagStoreOptions> options) : ICallbackStore
{
    private readonly TableClient _tags = service.GetTableClient(options.Value.TablePrefix + "Tags");
    private readonly TableInitializer _initializer = new(service, options.Value.TablePrefix);

    public async Task<IReadOnlyList<Subscription>> GetSubscriptionsAsync(Tag tag, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var partition = TableKeys.ForTag(tag);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {partition} and RowKey ge {TableKeys.SubscriptionPrefix} and RowKey lt {TableKeys.SubscriptionPrefix + "\u007f"}");
        var result = new List<Subscription>();
        await foreach (var entity in StorageFailures.Guarded(_tags.QueryAsync<SubscriptionEntity>(filter, cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            result.Add(new Subscription(entity.RowKey[TableKeys.SubscriptionPrefix.Length..], entity.Tag, new Uri(entity.CallbackUrl), entity.CreatedAt));
        }

        return result;
    }

    public async Task AddSubscriptionAsync(Subscription subscription, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        await StorageFailures.Guard(() => _tags.AddEntityAsync(new SubscriptionEntity
        {
            PartitionKey = TableKeys.Encode(subscription.Tag),
            RowKey = TableKeys.SubscriptionPrefix + subscription.Id,
            Tag = subscription.Tag,
            CallbackUrl = subscription.CallbackUrl.AbsoluteUri,
            CreatedAt = subscription.CreatedAt,
        }, cancellationToken)).ConfigureAwait(false);
    }

    public async Task<bool> RemoveSubscriptionAsync(Tag tag, string subscriptionId, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var partition = TableKeys.ForTag(tag);
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

    public async Task<IReadOnlyList<PendingDelivery>> GetDueDeliveriesAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var filter = TableClient.CreateQueryFilter(
            $"RowKey ge {TableKeys.DeliveryPrefix} and RowKey lt {TableKeys.DeliveryPrefix + "\u007f"} and NextAttemptAt le {now}");
        var result = new List<PendingDelivery>();
        await foreach (var entity in StorageFailures.Guarded(_tags.QueryAsync<DeliveryEntity>(filter, cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            result.Add(new PendingDelivery(entity.Tag, entity.EventId, entity.EventType, entity.SubscriptionId, new Uri(entity.CallbackUrl), entity.Body, entity.Attempts, entity.ETag));
            if (result.Count == max)
            {
                break;
            }
        }

        return result;
    }

    public async Task<bool> RemoveDeliveryAsync(PendingDelivery delivery, CancellationToken cancellationToken) =>
        await DeleteAsync(TableKeys.Encode(delivery.Tag), CallbackDelivery.RowKeyOf(delivery.EventId, delivery.SubscriptionId), delivery.ETag, cancellationToken).ConfigureAwait(false);

    public async Task<bool> PostponeDeliveryAsync(PendingDelivery delivery, DateTimeOffset nextAttemptAt, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(TableKeys.Encode(delivery.Tag), CallbackDelivery.RowKeyOf(delivery.EventId, delivery.SubscriptionId))
        {
            [nameof(DeliveryEntity.Attempts)] = delivery.Attempts + 1,
            [nameof(DeliveryEntity.NextAttemptAt)] = nextAttemptAt,
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

    private async Task<bool> DeleteAsync(string partitionKey, string rowKey, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            // A missing row comes back as a 404 response, not an exception.
            var response = await _tags.DeleteEntityAsync(partitionKey, rowKey, etag, cancellationToken).ConfigureAwait(false);
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
