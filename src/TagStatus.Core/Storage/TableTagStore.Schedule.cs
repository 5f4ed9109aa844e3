using System.Globalization;
using Azure;
using Azure.Data.Tables;
using TagStatus.Core.Domain;

namespace TagStatus.Core.Storage;

/// <summary>
/// The refresh schedule: one row per due refresh in the <c>due</c> partition of <c>TagIndex</c>, keyed by due time then
/// tag, so "what is due" is one key-range query that reads only due rows, however many settled tags there are.
/// </summary>
/// <remarks>
/// Only a tracked tag with a next read (a pending tag's refresh, a settled tag's re-check) has a due row. A summary write knows the summary it replaces (a refresh is given
/// it by the caller, who read it; <see cref="SaveSummaryAsync"/> reads it, one point read: the ETag must match, or the
/// write would fail anyway), adds the row of its new due time before the summary and deletes the
/// previous one's after, so a crash in between leaves an extra row (its refresh finds the tag not due and drops it),
/// never a missing one.
/// </remarks>
public sealed partial class TableTagStore
{
    public async Task<IReadOnlyList<DueTag>> GetDueTagsAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {TableKeys.DuePartition} and RowKey lt {TableKeys.DueBefore(now.AddTicks(1))}");
        var due = new List<DueTag>(Math.Min(max, 1000));
        await foreach (var entity in StorageFailures.Guarded(_index.QueryAsync<DueEntity>(filter, maxPerPage: Math.Clamp(max, 1, 1000), cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            if (Tag.TryParse(entity.Tag, out var tag, out _))
            {
                due.Add(ToDueTag(entity, tag));
            }

            if (due.Count == max)
            {
                break;
            }
        }

        return due;
    }

    public async Task<IReadOnlyList<DueTag>> GetClaimsInFlightAsync(DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {TableKeys.DuePartition} and RowKey ge {TableKeys.DueBefore(now.AddTicks(1))} and RowKey lt {TableKeys.DueBefore(until.AddTicks(1))}");
        var claims = new List<DueTag>();
        string[] columns = [nameof(DueEntity.Tag), nameof(DueEntity.DueTicks), nameof(DueEntity.Pages), nameof(DueEntity.Claimed)];
        await foreach (var entity in StorageFailures.Guarded(_index.QueryAsync<DueEntity>(filter, select: columns, cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            // Filtered here, not in the query: a query of the schedule filters on its keys only.
            if (entity.Claimed && Tag.TryParse(entity.Tag, out var tag, out _))
            {
                claims.Add(ToDueTag(entity, tag));
            }
        }

        return claims;
    }

    public async Task<DueTag?> ClaimDueAsync(DueTag due, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        // The row always moves (a renewal within the same tick included), so the claim is always a delete that can fail.
        var claimed = due with { DueAt = leaseUntil > due.DueAt ? leaseUntil : due.DueAt.AddTicks(1), Claimed = true };
        // One transaction in one partition: the delete fails when another run claimed the row first, and then nothing moves.
        List<TableTransactionAction> actions =
        [
            new(TableTransactionActionType.Delete, new TableEntity(TableKeys.DuePartition, TableKeys.ForDue(due.DueAt, due.Tag)), ETag.All),
            new(TableTransactionActionType.UpsertReplace, ToDueEntity(claimed)),
        ];
        try
        {
            await _index.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false);
            return claimed;
        }
        catch (TableTransactionFailedException e) when (e.Status is 404 or 409 or 412)
        {
            return null;
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw StorageFailures.Unavailable(e);
        }
    }

    public async Task RemoveDueAsync(DueTag due, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        await DeleteDueAsync(due.Tag, due.DueAt, cancellationToken).ConfigureAwait(false);
    }

    public async Task<DueTag> HoldInFlightAsync(Tag tag, DateTimeOffset until, int pages, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var hold = new DueTag(tag, until, pages, Claimed: true);
        await StorageFailures.Guard(() => _index.UpsertEntityAsync(ToDueEntity(hold), TableUpdateMode.Replace, cancellationToken)).ConfigureAwait(false);
        return hold;
    }

    public async Task EnsureDueAsync(TagSummary summary, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        await ScheduleAsync(summary, previous: null, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<TrackedListing>> GetTrackedSinceAsync(DateTimeOffset firstSeenAfter, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        // Newest first: the tags first seen after the bound are the rows whose keys sort before its key.
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {TableKeys.TrackedPartition} and RowKey lt {TableKeys.IndexBound(firstSeenAfter)}");
        var result = new List<TrackedListing>();
        await foreach (var entity in StorageFailures.Guarded(_index.QueryAsync<SummaryEntity>(filter, cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            // A listing row of the first versions carries no summary and no schedule row: say it needs reindexing.
            if (Tag.TryParse(entity.Tag, out _, out _) && await ListedSummaryAsync(entity, cancellationToken).ConfigureAwait(false) is { } summary)
            {
                result.Add(new TrackedListing(summary, NeedsReindex: IsListingOfOldShape(entity)));
            }
        }

        return result;
    }

    public Task<bool> TryClaimSweepAsync(DateTimeOffset now, TimeSpan every, CancellationToken cancellationToken) =>
        TryClaimRunAsync(TableKeys.SweepRow, now, every, cancellationToken);

    /// <summary>True for exactly one caller per <paramref name="every"/> across instances: an ETag-conditional row per kind of run.</summary>
    private async Task<bool> TryClaimRunAsync(string run, DateTimeOffset now, TimeSpan every, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var last = await StorageFailures.Guard(() => _index.GetEntityIfExistsAsync<TableEntity>(TableKeys.SweepPartition, run, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var entity = new TableEntity(TableKeys.SweepPartition, run) { ["SweptAt"] = now };
        try
        {
            if (!last.HasValue || last.Value is null)
            {
                await _index.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
                return true;
            }

            if (last.Value.GetDateTimeOffset("SweptAt") is { } sweptAt && now - sweptAt < every)
            {
                return false;
            }

            await _index.UpdateEntityAsync(entity, last.Value.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return false; // another instance runs this time
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw StorageFailures.Unavailable(e);
        }
    }

    /// <summary>The summary a conditional write replaces; a conflict now when it is no longer the one the caller read.</summary>
    private async Task<TagSummary?> ReadOverwrittenAsync(Tag tag, ETag? expected, CancellationToken cancellationToken)
    {
        var response = await StorageFailures.Guard(() => _tags.GetEntityIfExistsAsync<SummaryEntity>(TableKeys.ForTag(tag), TableKeys.SummaryRow, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var current = response.HasValue ? response.Value : null;
        if (expected is null ? current is not null : current is null || current.ETag != expected.Value)
        {
            throw new StoreConflictException($"The summary of tag '{tag}' changed since it was read.");
        }

        return current is null ? null : ToSummary(current);
    }

    /// <summary>
    /// The time a summary is due: a pending tag's next refresh, or a settled tag's next re-check; null for a tag nobody
    /// reads again (untracked, or settled past its re-checks).
    /// </summary>
    internal static DateTimeOffset? DueAtOf(TagSummary? summary) =>
        summary is { Tracked: true, NextRefreshAt: { } at } ? at : null;

    internal static int EstimatePages(TagSummary summary) => summary.EstimatedPages;

    /// <summary>Before the summary: the row of its new due time (an upsert, so a retry is harmless).</summary>
    private async Task ScheduleAsync(TagSummary summary, TagSummary? previous, CancellationToken cancellationToken)
    {
        if (DueAtOf(summary) is { } at && at != DueAtOf(previous))
        {
            await StorageFailures.Guard(() => _index.UpsertEntityAsync(ToDueEntity(new DueTag(summary.Tag, at, EstimatePages(summary))), TableUpdateMode.Replace, cancellationToken)).ConfigureAwait(false);
        }
    }

    /// <summary>After the summary: the previous due time's row, when the write moved or ended it.</summary>
    private async Task UnscheduleAsync(TagSummary summary, TagSummary? previous, CancellationToken cancellationToken)
    {
        if (DueAtOf(previous) is { } old && old != DueAtOf(summary))
        {
            try
            {
                await DeleteDueAsync(summary.Tag, old, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreUnavailableException e)
            {
                // The summary is written; the extra row is dropped when it comes due and its tag is not.
                StoreLog.DueRowNotRemoved(logger, summary.Tag.Value, e);
            }
        }
    }

    private async Task DeleteDueAsync(Tag tag, DateTimeOffset dueAt, CancellationToken cancellationToken)
    {
        try
        {
            // A row already gone (claimed, or removed by another writer) answers 404: that is the goal reached.
            await _index.DeleteEntityAsync(TableKeys.DuePartition, TableKeys.ForDue(dueAt, tag), ETag.All, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw StorageFailures.Unavailable(e);
        }
    }

    private static DueEntity ToDueEntity(DueTag due) => new()
    {
        RowKey = TableKeys.ForDue(due.DueAt, due.Tag),
        Tag = due.Tag.Value,
        DueTicks = due.DueAt.UtcTicks,
        Pages = due.Pages,
        Claimed = due.Claimed,
    };

    private static DueTag ToDueTag(DueEntity entity, Tag tag) =>
        new(tag, new DateTimeOffset(entity.DueTicks, TimeSpan.Zero), entity.Pages, entity.Claimed);
}

/// <summary>A due refresh (<c>TagIndex</c> table, partition <c>due</c>, row = due time then tag).</summary>
internal sealed class DueEntity : ITableEntity
{
    public string PartitionKey { get; set; } = TableKeys.DuePartition;
    public string RowKey { get; set; } = string.Empty;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Tag { get; set; } = string.Empty;

    /// <summary>The due time, exact (the key holds it too, as text).</summary>
    public long DueTicks { get; set; }

    /// <summary>The tag's estimated upstream pages, so the timer can keep within the upstream budget.</summary>
    public int Pages { get; set; }

    /// <summary>Written by a claim: the row's time is a lease's end, not a planned refresh.</summary>
    public bool Claimed { get; set; }
}
