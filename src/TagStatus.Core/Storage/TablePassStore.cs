using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using TagStatus.Core.Domain;
using TagStatus.Core.Json;

namespace TagStatus.Core.Storage;

/// <summary>A pass over a big tag's pages, carried between invocations: the pages read so far and when it began.</summary>
public sealed record StoredPass(UpstreamPass Pass, DateTimeOffset StartedAt, ETag ETag);

/// <summary>Where a pass too big for one invocation keeps its pages until it ends (the cursor is its page count).</summary>
public interface IPassStore
{
    Task<StoredPass?> LoadAsync(Tag tag, CancellationToken cancellationToken);

    /// <summary>
    /// Stores the pages of <paramref name="pass"/> after the first <paramref name="pagesStored"/> and moves the cursor,
    /// conditional on <paramref name="expected"/> (null: a new pass).
    /// </summary>
    /// <exception cref="StoreConflictException">Another invocation moved the cursor first.</exception>
    Task SaveAsync(Tag tag, UpstreamPass pass, int pagesStored, DateTimeOffset startedAt, ETag? expected, CancellationToken cancellationToken);

    /// <summary>Forgets the pass (it ended and was merged, or it is too old to finish).</summary>
    Task DeleteAsync(Tag tag, CancellationToken cancellationToken);

    /// <summary>Whether a pass of the tag is under way (one point read of its cursor).</summary>
    Task<bool> IsOpenAsync(Tag tag, CancellationToken cancellationToken);
}

/// <summary>
/// Passes in the <c>Passes</c> table: a partition per tag, a <c>cursor</c> row and one row per page (its rows as JSON,
/// split over properties of at most 32,000 characters, so a page of 1,000 rows fits in one entity).
/// </summary>
public sealed class TablePassStore(TableServiceClient service, IOptions<TagStoreOptions> options) : IPassStore
{
    private const string CursorRow = "cursor";
    private const int MaxPropertyChars = 32_000;
    private static readonly JsonSerializerOptions Json = JsonDefaults.Create();

    private readonly TableClient _passes = service.GetTableClient(options.Value.TablePrefix + "Passes");
    private readonly TableInitializer _initializer = new(service, options.Value);

    public async Task<StoredPass?> LoadAsync(Tag tag, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.ForTag(tag)}");
        TableEntity? cursor = null;
        var pages = new List<(IReadOnlyList<UpstreamRecipient> Rows, int? Total)>();
        await foreach (var entity in StorageFailures.Guarded(_passes.QueryAsync<TableEntity>(filter, maxPerPage: 1000, cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            if (entity.RowKey == CursorRow)
            {
                cursor = entity;
            }
            else
            {
                pages.Add((ReadRows(entity), entity.GetInt32("Total")));
            }
        }

        if (cursor is null)
        {
            return null;
        }

        // Only the pages the cursor counts: a save that died after writing pages but before the cursor left extras.
        var pass = new UpstreamPass();
        foreach (var (rows, total) in pages.Take(cursor.GetInt32("Pages") ?? 0))
        {
            pass.Add(rows, total);
        }

        return new StoredPass(pass, cursor.GetDateTimeOffset("StartedAt") ?? DateTimeOffset.MinValue, cursor.ETag);
    }

    public async Task SaveAsync(Tag tag, UpstreamPass pass, int pagesStored, DateTimeOffset startedAt, ETag? expected, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var partition = TableKeys.ForTag(tag);
        var pages = pass.Pages.Select((rows, index) => (rows, number: index + 1)).Skip(pagesStored)
            .Select(page => PageEntity(partition, page.number, page.rows, pass.AnnouncedTotal));
        // The pages first, the cursor last: a crash in between leaves pages the cursor does not count, read again later.
        foreach (var batch in Batches(pages))
        {
            await SubmitAsync(batch, cancellationToken).ConfigureAwait(false);
        }

        var cursor = new TableEntity(partition, CursorRow) { ["Pages"] = pass.PagesRead, ["StartedAt"] = startedAt };
        var action = expected is { } etag
            ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, cursor, etag)
            : new TableTransactionAction(TableTransactionActionType.Add, cursor);
        await SubmitAsync([action], cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> IsOpenAsync(Tag tag, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var cursor = await StorageFailures.Guard(() => _passes.GetEntityIfExistsAsync<TableEntity>(TableKeys.ForTag(tag), CursorRow, select: ["RowKey"], cancellationToken: cancellationToken)).ConfigureAwait(false);
        return cursor.HasValue;
    }

    public async Task DeleteAsync(Tag tag, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var partition = TableKeys.ForTag(tag);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition}");
        var keys = new List<string>();
        await foreach (var entity in StorageFailures.Guarded(_passes.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            keys.Add(entity.RowKey);
        }

        foreach (var chunk in keys.Chunk(TableTagStore.MaxBatch))
        {
            try
            {
                await _passes.SubmitTransactionAsync(chunk.Select(key => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partition, key), ETag.All)), cancellationToken).ConfigureAwait(false);
            }
            catch (TableTransactionFailedException e) when (e.Status == 404)
            {
                // Another invocation deleted some of it first: what is left goes on the next delete.
            }
            catch (Exception e) when (StorageFailures.IsStorageFailure(e))
            {
                throw StorageFailures.Unavailable(e);
            }
        }
    }

    /// <summary>Transactions of at most 100 entities and well under the 4 MB a transaction may carry (pages of 1,000 rows are ~90 KB).</summary>
    private static IEnumerable<List<TableTransactionAction>> Batches(IEnumerable<(TableEntity Entity, int Chars)> pages)
    {
        const int MaxBatchChars = 1_500_000; // UTF-16 characters of row JSON; the wire form is larger (escaping, batch framing)
        var batch = new List<TableTransactionAction>();
        var chars = 0;
        foreach (var (entity, size) in pages)
        {
            if (batch.Count == TableTagStore.MaxBatch || (batch.Count > 0 && chars + size > MaxBatchChars))
            {
                yield return batch;
                batch = [];
                chars = 0;
            }

            batch.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, entity));
            chars += size;
        }

        if (batch.Count > 0)
        {
            yield return batch;
        }
    }

    private async Task SubmitAsync(List<TableTransactionAction> actions, CancellationToken cancellationToken)
    {
        try
        {
            await _passes.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false);
        }
        catch (TableTransactionFailedException e) when (e.Status is 409 or 412)
        {
            throw new StoreConflictException("Another invocation moved the pass first.", e);
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw StorageFailures.Unavailable(e);
        }
    }

    private static (TableEntity Entity, int Chars) PageEntity(string partition, int number, IReadOnlyList<UpstreamRecipient> rows, int? total)
    {
        var entity = new TableEntity(partition, "p" + number.ToString("D6", CultureInfo.InvariantCulture)) { ["Total"] = total };
        var json = JsonSerializer.Serialize(rows.Select(r => new PageRow(r.PhoneNumber, r.RawStatus, r.StopSms, r.StatusAt)), Json);
        for (var part = 0; part * MaxPropertyChars < json.Length; part++)
        {
            entity["R" + part.ToString(CultureInfo.InvariantCulture)] = json.Substring(part * MaxPropertyChars, Math.Min(MaxPropertyChars, json.Length - (part * MaxPropertyChars)));
        }

        return (entity, json.Length);
    }

    private static List<UpstreamRecipient> ReadRows(TableEntity entity)
    {
        var json = string.Concat(Enumerable.Range(0, int.MaxValue).Select(part => entity.GetString("R" + part.ToString(CultureInfo.InvariantCulture))).TakeWhile(text => text is not null));
        return [.. (JsonSerializer.Deserialize<List<PageRow>>(json, Json) ?? []).Select(r => new UpstreamRecipient(r.PhoneNumber, r.RawStatus, r.StopSms, r.StatusAt))];
    }

    private sealed record PageRow(string PhoneNumber, string RawStatus, bool StopSms, DateTimeOffset? StatusAt);
}
