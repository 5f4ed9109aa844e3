using Azure;
using Azure.Data.Tables;
using TagStatus.Core.Domain;

namespace TagStatus.Core.Storage;

/// <summary>What one retention run did to summaries: tags removed, tags given a seen row by the backfill, and whether it is over.</summary>
public sealed record SummaryRetentionResult(int TagsRemoved, int TagsBackfilled, bool BackfillDone);

/// <summary>
/// The lifetime of a tag's summary. Every tag has a row in <c>TagIndex</c> partition <c>seen-yyyyMM</c> (the month its
/// recipients belong to, RowKey = tag), written before its summary is first written (as the due row: a crash may leave an
/// extra one, never a missing one). The retention run reads the seen partitions older than
/// <see cref="RetentionOptions.SummaryMonths"/> by key range and removes each tag's summary and every row of its
/// partitions: the cost grows with the tags that expire, never with history.
/// </summary>
/// <remarks>
/// Tags stored before seen rows existed are given theirs by a one-off backfill: one read of the summaries a run, at most
/// <see cref="BackfillPagesPerRun"/> pages of 1,000, resumed from a continuation kept in <c>TagIndex</c>, and never again
/// once it reached the end. Those tags are at most a few months old when it starts, years before their summaries expire.
/// </remarks>
public sealed partial class TableTagStore
{
    /// <summary>Pages of 1,000 summaries the backfill reads per run: 50,000 tags a day.</summary>
    internal const int BackfillPagesPerRun = 50;

    /// <summary>Expired tags one run removes; the rest go the next day (a month's tags expire together).</summary>
    internal const int MaxTagsRemovedPerRun = 20_000;

    private const int TagsRemovedInParallel = 8;
    private const string SeenPartitionStem = "seen-";
    private const string BackfillRow = "seen-backfill";

    private TableClient Passes => service.GetTableClient(_prefix + "Passes");

    public async Task<SummaryRetentionResult> RemoveExpiredSummariesAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var (backfilled, done) = await BackfillSeenRowsAsync(cancellationToken).ConfigureAwait(false);

        var keptFrom = SeenPartition(RecipientMonths.OldestKept(now, _retention.SummaryMonths));
        var filter = TableClient.CreateQueryFilter($"PartitionKey gt {SeenPartitionStem} and PartitionKey lt {keptFrom}");
        var expired = new List<(Tag Tag, string Month)>();
        await foreach (var row in StorageFailures.Guarded(_index.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: ["PartitionKey", "RowKey", "Tag"], cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            if (Tag.TryParse(row.GetString("Tag"), out var tag, out _))
            {
                expired.Add((tag, row.PartitionKey[SeenPartitionStem.Length..]));
            }

            if (expired.Count == MaxTagsRemovedPerRun)
            {
                break;
            }
        }

        var removed = 0;
        await Parallel.ForEachAsync(expired, new ParallelOptions { MaxDegreeOfParallelism = TagsRemovedInParallel, CancellationToken = cancellationToken }, async (seen, ct) =>
        {
            if (await RemoveTagAsync(seen.Tag, seen.Month, restarting: false, ct).ConfigureAwait(false))
            {
                Interlocked.Increment(ref removed);
            }
        }).ConfigureAwait(false);

        return new SummaryRetentionResult(removed, backfilled, done);
    }

    public async Task RestartExpiredTagAsync(StoredSummary expired, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        if (!RecipientsExpired(expired.Summary))
        {
            return; // not the tag's old life: nothing to forget
        }

        await RemoveTagAsync(expired.Summary.Tag, HomeOf(expired.Summary).ExpiresWith, restarting: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Before a tag's summary is first written: its seen row (an upsert, so a retry or a crash before the summary is harmless).
    /// </summary>
    private async Task MarkSeenAsync(TagSummary summary, TagSummary? previous, CancellationToken cancellationToken)
    {
        if (previous is null)
        {
            var row = SeenRow(summary.Tag, HomeOf(summary).ExpiresWith);
            await StorageFailures.Guard(() => _index.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken)).ConfigureAwait(false);
        }
    }

    private bool RecipientsExpired(TagSummary summary) =>
        RecipientMonths.IsExpired(HomeOf(summary).ExpiresWith, _time.GetUtcNow(), _retention.Months);

    /// <summary>
    /// Removes a tag of <paramref name="month"/>: every row of its partitions but the summary, its listing and schedule rows,
    /// then the summary (conditional on the ETag read), then its seen row. A summary of a later month is the name started
    /// again (<see cref="RestartExpiredTagAsync"/>): only the old seen row goes. A restart keeps the claim row (its caller
    /// holds it) and the passes (the pass that restarts it may still be open). Returns whether a summary was removed.
    /// </summary>
    private async Task<bool> RemoveTagAsync(Tag tag, string month, bool restarting, CancellationToken cancellationToken)
    {
        var partition = TableKeys.ForTag(tag);
        var stored = await StorageFailures.Guard(() => _tags.GetEntityIfExistsAsync<SummaryEntity>(partition, TableKeys.SummaryRow, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var entity = stored.HasValue ? stored.Value : null;
        var summary = entity is null ? null : ToSummary(entity);
        var removes = summary is null || string.CompareOrdinal(HomeOf(summary).ExpiresWith, month) <= 0;
        if (removes)
        {
            await DeletePartitionAsync(_tags, partition, key => key == TableKeys.SummaryRow || (restarting && key == TableKeys.RefreshClaimRow), cancellationToken).ConfigureAwait(false);
            if (!restarting)
            {
                await DeletePartitionAsync(Passes, partition, _ => false, cancellationToken).ConfigureAwait(false);
            }

            if (summary is not null)
            {
                await DeleteRowAsync(_index, TableKeys.TrackedPartition, TableKeys.ForIndex(summary.FirstSeenAt, tag), ETag.All, cancellationToken).ConfigureAwait(false);
                if (DueAtOf(summary) is { } dueAt)
                {
                    await DeleteRowAsync(_index, TableKeys.DuePartition, TableKeys.ForDue(dueAt, tag), ETag.All, cancellationToken).ConfigureAwait(false);
                }

                // Conditional: a summary written meanwhile (the name started again) stays, with every row it needs.
                if (!await DeleteRowAsync(_tags, partition, TableKeys.SummaryRow, entity!.ETag, cancellationToken).ConfigureAwait(false))
                {
                    return false;
                }
            }

            _homes.TryRemove(tag, out _);
        }

        await DeleteRowAsync(_index, SeenPartitionStem + month, partition, ETag.All, cancellationToken).ConfigureAwait(false);
        return removes && summary is not null;
    }

    /// <summary>One step of the one-off backfill of seen rows for tags stored before them; a no-op once it reached the end.</summary>
    private async Task<(int Backfilled, bool Done)> BackfillSeenRowsAsync(CancellationToken cancellationToken)
    {
        var marker = await StorageFailures.Guard(() => _index.GetEntityIfExistsAsync<TableEntity>(TableKeys.SweepPartition, BackfillRow, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (marker.HasValue && marker.Value?.GetBoolean("Done") == true)
        {
            return (0, true);
        }

        var continuation = marker.HasValue ? marker.Value?.GetString("Continuation") : null;
        // The one query of the Tags table without a partition: run a bounded step a day until it has read every summary once.
        var filter = TableClient.CreateQueryFilter($"RowKey eq {TableKeys.SummaryRow}");
        var pages = _tags.QueryAsync<SummaryEntity>(filter, maxPerPage: 1000, select: ["PartitionKey", "RowKey", "Tag", "FirstSeenAt", "RecipientsMonth"], cancellationToken: cancellationToken)
            .AsPages(continuation, 1000);
        var backfilled = 0;
        var pagesRead = 0;
        try
        {
            await foreach (var page in pages.ConfigureAwait(false))
            {
                backfilled += await SaveSeenRowsAsync(page.Values, cancellationToken).ConfigureAwait(false);

                // After each page: a run that dies reads at most one page again.
                var done = page.ContinuationToken is null;
                var progress = new TableEntity(TableKeys.SweepPartition, BackfillRow) { ["Continuation"] = page.ContinuationToken, ["Done"] = done };
                await _index.UpsertEntityAsync(progress, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
                if (done)
                {
                    return (backfilled, true);
                }

                if (++pagesRead == BackfillPagesPerRun)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw StorageFailures.Unavailable(e);
        }

        return (backfilled, false);
    }

    /// <summary>The seen rows of a page of summaries, upserted 100 to a transaction within each month's partition.</summary>
    private async Task<int> SaveSeenRowsAsync(IEnumerable<SummaryEntity> summaries, CancellationToken cancellationToken)
    {
        var saved = 0;
        var rows = summaries.Where(entity => Tag.TryParse(entity.Tag, out _, out _)).Select(entity => SeenRow(Tag.Parse(entity.Tag), HomeOf(ToSummary(entity)).ExpiresWith));
        foreach (var month in rows.GroupBy(row => row.PartitionKey))
        {
            foreach (var chunk in month.Chunk(MaxBatch))
            {
                saved += await SubmitAsync(_index, [.. chunk.Select(row => new TableTransactionAction(TableTransactionActionType.UpsertReplace, row))], cancellationToken).ConfigureAwait(false);
            }
        }

        return saved;
    }

    /// <summary>Deletes the rows of one partition that <paramref name="keep"/> does not hold, 100 to a transaction.</summary>
    private static async Task DeletePartitionAsync(TableClient table, string partition, Func<string, bool> keep, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        try
        {
            await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), select: ["RowKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (!keep(row.RowKey))
                {
                    keys.Add(row.RowKey);
                }
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return; // no such table (Azurite before first use): nothing to delete
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw StorageFailures.Unavailable(e);
        }

        await DeleteRowsAsync(table, partition, keys, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes rows of one partition, 100 to a transaction; a row another writer removed first is no failure.</summary>
    internal static async Task DeleteRowsAsync(TableClient table, string partition, IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        foreach (var chunk in keys.Chunk(MaxBatch))
        {
            try
            {
                await table.SubmitTransactionAsync(chunk.Select(key => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partition, key), ETag.All)), cancellationToken).ConfigureAwait(false);
            }
            catch (TableTransactionFailedException e) when (e.Status == 404)
            {
                // Another writer removed one of them first: the rest one at a time.
                foreach (var key in chunk)
                {
                    await DeleteRowAsync(table, partition, key, ETag.All, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (StorageFailures.IsStorageFailure(e))
            {
                throw StorageFailures.Unavailable(e);
            }
        }
    }

    /// <summary>Deletes one row; false when it changed since <paramref name="etag"/>. A row already gone counts as deleted.</summary>
    private static async Task<bool> DeleteRowAsync(TableClient table, string partition, string row, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(partition, row, etag, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            return false;
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw StorageFailures.Unavailable(e);
        }
    }

    private static string SeenPartition(string month) => SeenPartitionStem + month;

    private static TableEntity SeenRow(Tag tag, string month) => new(SeenPartition(month), TableKeys.ForTag(tag)) { ["Tag"] = tag.Value };
}
