using Azure;
using Azure.Data.Tables;
using TagStatus.Core.Storage;

namespace TagStatus.Core.SmsPartner.Budget;

/// <summary>
/// The buckets in their own small table, <c>{TablePrefix}UpstreamBudget</c>: one partition per API key hash, one row.
/// The key itself is never stored; the row holds only the bucket.
/// </summary>
/// <param name="createTable">Whether to create the table on first use (Azurite); in Azure the Bicep made it.</param>
public sealed class TableBudgetStore(TableServiceClient service, string tablePrefix, bool createTable = true) : IBudgetStore
{
    public const string TableName = "UpstreamBudget";
    internal const string RowKey = "bucket";

    private readonly TableClient _table = service.GetTableClient(tablePrefix + TableName);
    private readonly SemaphoreSlim _createGate = new(1, 1);
    private volatile bool _created = !createTable;

    public async Task<StoredBucket?> ReadAsync(string keyHash, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var response = await Guard(() => _table.GetEntityIfExistsAsync<BucketEntity>(keyHash, RowKey, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity ? new StoredBucket(entity.ToState(), entity.ETag) : null;
    }

    public async Task<StoredBucket?> TryCreateAsync(string keyHash, BucketState state, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var response = await _table.AddEntityAsync(BucketEntity.From(keyHash, state), cancellationToken).ConfigureAwait(false);
            return new StoredBucket(state, response.Headers.ETag ?? throw new UpstreamBudgetUnavailableException("Table Storage answered a write without an ETag."));
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return null;
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw Unavailable(e);
        }
    }

    public async Task<StoredBucket?> TryReplaceAsync(string keyHash, BucketState state, ETag expected, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var response = await _table.UpdateEntityAsync(BucketEntity.From(keyHash, state), expected, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            return new StoredBucket(state, response.Headers.ETag ?? throw new UpstreamBudgetUnavailableException("Table Storage answered a write without an ETag."));
        }
        catch (RequestFailedException e) when (e.Status is 412 or 404)
        {
            // 404: the row was deleted since it was read; a re-read recreates it.
            return null;
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw Unavailable(e);
        }
    }

    private async ValueTask EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (_created)
        {
            return;
        }

        await _createGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_created)
            {
                await Guard(() => _table.CreateIfNotExistsAsync(cancellationToken)).ConfigureAwait(false);
                _created = true;
            }
        }
        finally
        {
            _createGate.Release();
        }
    }

    private static async Task<T> Guard<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw Unavailable(e);
        }
    }

    private static UpstreamBudgetUnavailableException Unavailable(Exception e) => new(
        e is RequestFailedException failed
            ? $"The shared SMS Partner call budget in Table Storage failed (HTTP {failed.Status}, {failed.ErrorCode ?? "no error code"})."
            : "The shared SMS Partner call budget in Table Storage could not be reached.",
        e);
}

/// <summary>The bucket row. <c>PartitionKey</c> is the API key hash; nothing else identifies the key.</summary>
internal sealed class BucketEntity : ITableEntity
{
    public string PartitionKey { get; set; } = string.Empty;

    public string RowKey { get; set; } = string.Empty;

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public double Tokens { get; set; }

    public DateTimeOffset RefilledAt { get; set; }

    public DateTimeOffset? BlockedUntil { get; set; }

    public static BucketEntity From(string keyHash, BucketState state) => new()
    {
        PartitionKey = keyHash,
        RowKey = TableBudgetStore.RowKey,
        Tokens = state.Tokens,
        RefilledAt = state.RefilledAt,
        BlockedUntil = state.BlockedUntil,
    };

    public BucketState ToState() => new(Tokens, RefilledAt, BlockedUntil);
}
