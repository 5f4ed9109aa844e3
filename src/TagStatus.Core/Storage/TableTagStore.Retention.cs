using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;
using Azure.Data.Tables.Models;
using TagStatus.Core.Domain;

namespace TagStatus.Core.Storage;

/// <summary>
/// What the daily retention run needs of the store (its claim, the drop of expired month tables, the removal of expired
/// summaries), and what starts a tag name again once its recipients expired.
/// </summary>
public interface IRetentionStore
{
    /// <summary>True for exactly one caller per <paramref name="every"/>, across instances.</summary>
    Task<bool> TryClaimRetentionAsync(DateTimeOffset now, TimeSpan every, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the month tables of recipients past <see cref="RetentionOptions.Months"/> (one listing of tables by name
    /// range, whatever the history), and the single table of earlier versions once the first month table expires.
    /// Returns the names of the tables deleted.
    /// </summary>
    Task<IReadOnlyList<string>> DropExpiredRecipientsAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Removes the tags first seen in months past <see cref="RetentionOptions.SummaryMonths"/>: their summaries and every row
    /// of their partitions (read by key range from the seen index, so the cost grows with the tags that expire), after one
    /// bounded step of the one-off backfill of seen rows for tags stored before the index existed.
    /// </summary>
    Task<SummaryRetentionResult> RemoveExpiredSummariesAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Forgets a tag whose recipients are past <see cref="RetentionOptions.Months"/> (its summary, subscriptions, deliveries,
    /// listing and schedule rows), so a new read of the name stores it as a new tag, first seen now. A summary written
    /// since <paramref name="expired"/> was read stays.
    /// </summary>
    Task RestartExpiredTagAsync(StoredSummary expired, CancellationToken cancellationToken);
}

/// <summary>
/// Where a tag's recipient rows live: the month table of its summary, chosen on the summary's first write
/// (<see cref="RecipientMonths"/>) and never changed; the single table of earlier versions for a summary without one.
/// A tag's recipients expire with its first-seen month, whichever table holds them.
/// </summary>
public sealed partial class TableTagStore : IRetentionStore
{
    /// <summary>Month tables this process made or found: one create call per month per process.</summary>
    private readonly ConcurrentDictionary<string, bool> _monthTablesReady = new(StringComparer.Ordinal);

    /// <summary>Tags whose summary this process read: a tag's month never changes once stored, so a page of its recipients
    /// needs no second summary read. Bounded: emptied when full.</summary>
    private readonly ConcurrentDictionary<Tag, RecipientsHome> _homes = new();

    private const int MaxRememberedHomes = 100_000;

    /// <summary>Where a stored tag's rows are (<see cref="Month"/>, null for the single table) and the month they expire with.</summary>
    private readonly record struct RecipientsHome(string? Month, string ExpiresWith);

    public Task<bool> TryClaimRetentionAsync(DateTimeOffset now, TimeSpan every, CancellationToken cancellationToken) =>
        TryClaimRunAsync(TableKeys.RetentionRow, now, every, cancellationToken);

    public async Task<IReadOnlyList<string>> DropExpiredRecipientsAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var legacy = RecipientMonths.TableName(_prefix, month: null);
        var keptFrom = RecipientMonths.TableName(_prefix, RecipientMonths.OldestKept(now, _retention.Months));
        // Month tables sort by name as by time: the expired ones are exactly those after the stem and before the oldest kept.
        var filter = TableServiceClient.CreateQueryFilter($"TableName gt {legacy} and TableName lt {keptFrom}");
        var expired = new List<string>();
        await foreach (var table in StorageFailures.Guarded(service.QueryAsync(filter, cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            if (IsMonthTable(table))
            {
                expired.Add(table.Name);
            }
        }

        var dropped = new List<string>();
        if (expired.Count > 0)
        {
            // Every tag of the single table was first seen before the first month table existed: once any month table
            // expires, so have they. It goes first, so a failed run leaves it to the next one, month tables included.
            if (await DeleteTableAsync(legacy, cancellationToken).ConfigureAwait(false))
            {
                dropped.Add(legacy);
            }
        }

        foreach (var name in expired)
        {
            if (await DeleteTableAsync(name, cancellationToken).ConfigureAwait(false))
            {
                dropped.Add(name);
            }

            _monthTablesReady.TryRemove(name, out _);
        }

        return dropped;
    }

    /// <summary>The table to read the tag's recipients from; throws when they are past retention.</summary>
    private async Task<(TableClient Table, string? Month)> RecipientsTableOfAsync(Tag tag, CancellationToken cancellationToken)
    {
        // A remembered home past retention is read again: the name may have started again since (a new home).
        if (!_homes.TryGetValue(tag, out var home) || RecipientMonths.IsExpired(home.ExpiresWith, _time.GetUtcNow(), _retention.Months))
        {
            var stored = (await GetSummaryAsync(tag, cancellationToken).ConfigureAwait(false))?.Summary;
            // No summary yet: rows of a first write that died before its summary sit in this month's table.
            var thisMonth = RecipientMonths.Of(_time.GetUtcNow());
            home = stored is null ? new RecipientsHome(thisMonth, thisMonth) : HomeOf(stored);
        }

        if (RecipientMonths.IsExpired(home.ExpiresWith, _time.GetUtcNow(), _retention.Months))
        {
            throw new RecipientsExpiredException(tag.Value, home.Month);
        }

        return (service.GetTableClient(RecipientMonths.TableName(_prefix, home.Month)), home.Month);
    }

    /// <summary>Called with every summary read: its home is fixed for the tag's life, so it is safe to keep.</summary>
    private void RememberHome(TagSummary summary)
    {
        if (_homes.Count >= MaxRememberedHomes)
        {
            _homes.Clear();
        }

        _homes[summary.Tag] = HomeOf(summary);
    }

    private static RecipientsHome HomeOf(TagSummary summary) =>
        new(summary.RecipientsMonth, summary.RecipientsMonth ?? RecipientMonths.Of(summary.FirstSeenAt));

    /// <summary>The table a refresh writes the tag's rows to, made on its month's first write (tables are data-plane objects).</summary>
    private async Task<TableClient> RecipientsTableForWriteAsync(TagSummary summary, CancellationToken cancellationToken)
    {
        ThrowIfExpired(summary);
        var name = RecipientMonths.TableName(_prefix, summary.RecipientsMonth);
        var table = service.GetTableClient(name);
        if (summary.RecipientsMonth is not null && !_monthTablesReady.ContainsKey(name))
        {
            await StorageFailures.Guard(() => table.CreateIfNotExistsAsync(cancellationToken)).ConfigureAwait(false);
            _monthTablesReady[name] = true;
        }

        return table;
    }

    /// <summary>The month a summary's rows belong to: its stored one when it has a stored summary, else its first-seen month.</summary>
    private static TagSummary WithRecipientsMonth(TagSummary summary, TagSummary? previous) =>
        summary with { RecipientsMonth = previous is null ? RecipientMonths.Of(summary.FirstSeenAt) : previous.RecipientsMonth };

    private void ThrowIfExpired(TagSummary summary)
    {
        if (RecipientsExpired(summary))
        {
            throw new RecipientsExpiredException(summary.Tag.Value, summary.RecipientsMonth);
        }
    }

    private async Task<bool> DeleteTableAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            // The client answers a missing table without throwing: its status says whether there was one.
            var response = await service.DeleteTableAsync(name, cancellationToken).ConfigureAwait(false);
            return response.Status != 404;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false; // already gone: another run, or never made
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw StorageFailures.Unavailable(e);
        }
    }

    private bool IsMonthTable(TableItem table) =>
        table.Name.Length == _prefix.Length + RecipientMonths.TableStem.Length + 6
        && table.Name.StartsWith(_prefix + RecipientMonths.TableStem, StringComparison.Ordinal)
        && table.Name.AsSpan(_prefix.Length + RecipientMonths.TableStem.Length).ContainsAnyExceptInRange('0', '9') is false;

    private static bool IsMissingTable(StoreUnavailableException e) => e.InnerException is RequestFailedException { Status: 404 };
}
