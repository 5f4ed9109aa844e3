using System.Collections.Concurrent;
using Azure;
using TagStatus.Core.SmsPartner.Budget;

namespace TagStatus.Tests.Support;

/// <summary>
/// The budget rows in memory with Table Storage's ETag rules (create fails if present, replace fails unless the ETag
/// matches), so several buckets over one store behave like instances over one table. Counts writes and conflicts.
/// </summary>
internal sealed class InMemoryBudgetStore : IBudgetStore
{
    private readonly ConcurrentDictionary<string, StoredBucket> _rows = new(StringComparer.Ordinal);
    private int _conflicts;
    private int _writes;
    private long _version;

    public int Conflicts => Volatile.Read(ref _conflicts);

    public int Writes => Volatile.Read(ref _writes);

    public IReadOnlyCollection<string> Keys => [.. _rows.Keys];

    public BucketState? StateOf(string keyHash) => _rows.TryGetValue(keyHash, out var row) ? row.State : null;

    /// <summary>Writes a row as another instance would, changing its ETag.</summary>
    public void Put(string keyHash, BucketState state) => _rows[keyHash] = new StoredBucket(state, NextETag());

    public Task<StoredBucket?> ReadAsync(string keyHash, CancellationToken cancellationToken) =>
        Task.FromResult(_rows.TryGetValue(keyHash, out var row) ? row : null);

    public Task<StoredBucket?> TryCreateAsync(string keyHash, BucketState state, CancellationToken cancellationToken)
    {
        var row = new StoredBucket(state, NextETag());
        if (!_rows.TryAdd(keyHash, row))
        {
            Interlocked.Increment(ref _conflicts);
            return Task.FromResult<StoredBucket?>(null);
        }

        Interlocked.Increment(ref _writes);
        return Task.FromResult<StoredBucket?>(row);
    }

    public Task<StoredBucket?> TryReplaceAsync(string keyHash, BucketState state, ETag expected, CancellationToken cancellationToken)
    {
        var row = new StoredBucket(state, NextETag());
        if (!_rows.TryGetValue(keyHash, out var current) || current.ETag != expected || !_rows.TryUpdate(keyHash, row, current))
        {
            Interlocked.Increment(ref _conflicts);
            return Task.FromResult<StoredBucket?>(null);
        }

        Interlocked.Increment(ref _writes);
        return Task.FromResult<StoredBucket?>(row);
    }

    private ETag NextETag() => new($"W/\"{Interlocked.Increment(ref _version)}\"");
}
