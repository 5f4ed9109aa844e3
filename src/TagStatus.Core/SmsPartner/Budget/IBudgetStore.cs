using Azure;

namespace TagStatus.Core.SmsPartner.Budget;

/// <summary>A bucket row as read or written, with the ETag a conditional write must match.</summary>
public sealed record StoredBucket(BucketState State, ETag ETag);

/// <summary>
/// Where the shared buckets live, one row per API key hash. Every write is conditional, so concurrent instances
/// never lose each other's takes.
/// </summary>
/// <remarks>Storage failures throw <see cref="UpstreamBudgetUnavailableException"/>.</remarks>
public interface IBudgetStore
{
    Task<StoredBucket?> ReadAsync(string keyHash, CancellationToken cancellationToken);

    /// <summary>Creates the row; null when another instance created it first.</summary>
    Task<StoredBucket?> TryCreateAsync(string keyHash, BucketState state, CancellationToken cancellationToken);

    /// <summary>Replaces the row if it still has <paramref name="expected"/>; null when someone wrote it since (HTTP 412).</summary>
    Task<StoredBucket?> TryReplaceAsync(string keyHash, BucketState state, ETag expected, CancellationToken cancellationToken);
}
