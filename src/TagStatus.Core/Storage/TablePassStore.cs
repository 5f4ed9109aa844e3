using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using TagStatus.Core.Domain;
using TagStatus.Core.Json;

namespace TagStatus.Core.Storage;

/// <summary>
/// An open pass as a step goes on from it: its counters and its last page, never the pages before (those are loaded
/// once, when the pass may end: <see cref="IPassStore.LoadPagesAsync"/>, counted and spilled, never held).
/// </summary>
public sealed record PassCursor(int Pages, int RowsRead, int? AnnouncedTotal, DateTimeOffset StartedAt, ETag ETag, IReadOnlyList<UpstreamRecipient> LastPage)
{
    /// <summary>The rest of the pass, holding none of the pages read so far (and, past a few thousand rows, none of its own: see <see cref="UpstreamPass.After"/>).</summary>
    public UpstreamPass Resume(Func<IPassSpill>? spillOver = null) => UpstreamPass.After(Pages, RowsRead, AnnouncedTotal, LastPage, spillOver);
}

/// <summary>Where a pass too big for one invocation keeps its pages until it ends (the cursor counts them).</summary>
public interface IPassStore
{
    /// <summary>The cursor of the tag's open pass and its last page (two point reads), or null when none is open.</summary>
    Task<PassCursor?> GetCursorAsync(Tag tag, CancellationToken cancellationToken);

    /// <summary>
    /// Every page the cursor counts, streamed into an open <see cref="UpstreamPass.Counting"/> pass that spills them to
    /// <paramref name="spill"/> (one key-range query, read in bounded responses): the pass counts them all and holds none.
    /// </summary>
    Task<UpstreamPass> LoadPagesAsync(Tag tag, PassCursor cursor, IPassSpill spill, CancellationToken cancellationToken);

    /// <summary>
    /// Stores the pages of <paramref name="pass"/> after page <paramref name="pagesStored"/> and moves the cursor with
    /// the pass's counters, conditional on <paramref name="expected"/> (null: a new pass).
    /// </summary>
    /// <exception cref="StoreConflictException">Another invocation moved the cursor first.</exception>
    Task SaveAsync(Tag tag, UpstreamPass pass, int pagesStored, DateTimeOffset startedAt, ETag? expected, CancellationToken cancellationToken);

    /// <summary>Forgets the pass (it ended and was merged, or it is too old to finish).</summary>
    Task DeleteAsync(Tag tag, CancellationToken cancellationToken);

    /// <summary>Whether a pass of the tag is under way (one point read of its cursor).</summary>
    Task<bool> IsOpenAsync(Tag tag, CancellationToken cancellationToken);
}

/// <summary>
/// Passes in the <c>Passes</c> table: a partition per tag, a <c>cursor</c> row (pages, rows read, announced total, start)
/// and one row per page (its rows as JSON, split over properties of at most 32,000 characters, so a page of 1,000 rows
/// fits in one entity). A step reads the cursor and the last page only, so a pass of n pages costs O(n) reads in all.
/// </summary>
public sealed class TablePassStore(TableServiceClient service, IOptions<TagStoreOptions> options) : IPassStore
{
    private const string CursorRow = "cursor";
    private static readonly JsonSerializerOptions Json = JsonDefaults.Create();

    private readonly TableClient _passes = service.GetTableClient(options.Value.TablePrefix + "Passes");
    private readonly TableInitializer _initializer = new(service, options.Value);

    public async Task<PassCursor?> GetCursorAsync(Tag tag, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var partition = TableKeys.ForTag(tag);
        var response = await StorageFailures.Guard(() => _passes.GetEntityIfExistsAsync<TableEntity>(partition, CursorRow, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (!response.HasValue || response.Value is not { } cursor)
        {
            return null;
        }

        var pages = cursor.GetInt32("Pages") ?? 0;
        var startedAt = cursor.GetDateTimeOffset("StartedAt") ?? DateTimeOffset.MinValue;
        IReadOnlyList<UpstreamRecipient> lastPage = [];
        if (pages > 0)
        {
            var last = await StorageFailures.Guard(() => _passes.GetEntityIfExistsAsync<TableEntity>(partition, PageKey(pages), cancellationToken: cancellationToken)).ConfigureAwait(false);
            lastPage = last.HasValue && last.Value is { } entity ? ReadRows(entity) : [];
        }

        var found = new PassCursor(pages, cursor.GetInt32("Rows") ?? 0, cursor.GetInt32("Total"), startedAt, cursor.ETag, lastPage);
        if (pages > 0 && cursor.GetInt32("Rows") is null)
        {
            // A cursor of the first versions carried no counters: they are counted from its pages, once.
            var (rows, total) = (0, (int?)null);
            await foreach (var page in ReadPagesAsync(tag, found, cancellationToken).ConfigureAwait(false))
            {
                (rows, total) = (rows + page.Rows.Count, page.Total ?? total);
            }

            found = found with { RowsRead = rows, AnnouncedTotal = total };
        }

        return found;
    }

    public async Task<UpstreamPass> LoadPagesAsync(Tag tag, PassCursor cursor, IPassSpill spill, CancellationToken cancellationToken)
    {
        var pass = UpstreamPass.Counting(spill, cursor.RowsRead);
        await foreach (var page in ReadPagesAsync(tag, cursor, cancellationToken).ConfigureAwait(false))
        {
            pass.Add(page.Rows, page.Total);
        }

        return pass;
    }

    private async IAsyncEnumerable<(List<UpstreamRecipient> Rows, int? Total)> ReadPagesAsync(Tag tag, PassCursor cursor, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        // Only the pages the cursor counts: a save that died after writing pages but before the cursor left extras.
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.ForTag(tag)} and RowKey ge {PageKey(1)} and RowKey le {PageKey(cursor.Pages)}");
        await foreach (var entity in StorageFailures.Guarded(_passes.QueryAsync<TableEntity>(filter, maxPerPage: PagesPerResponse(cursor), cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            yield return (ReadRows(entity), entity.GetInt32("Total"));
        }
    }

    /// <summary>
    /// Stored pages asked for in one response: about <see cref="RowsPerResponse"/> rows' worth. The SDK holds a whole
    /// response at once (its bytes, then its entities' strings): 100 pages of 1,000 rows were one response of ~20 MB. A
    /// fixed small count would cost a request per few rows at 20 rows a page.
    /// </summary>
    internal static int PagesPerResponse(PassCursor cursor) => cursor.RowsRead > 0
        ? (int)Math.Clamp((long)RowsPerResponse * cursor.Pages / cursor.RowsRead, 1, 1000)
        : RowsPerResponse / 1000; // rows not counted (a cursor of the first versions): as if pages of 1,000 rows

    /// <summary>
    /// Rows of stored pages a response carries: ~0.2 MB of JSON at SMS Partner's row size. The SDK parses a response in
    /// pooled buffers its size, which the pool keeps: at 5,000 rows (~1 MB) a big tag's last step peaked 5-8 MB higher
    /// (bench/README), for 80 fewer requests per 100,000 rows.
    /// </summary>
    internal const int RowsPerResponse = 1_000;

    public async Task SaveAsync(Tag tag, UpstreamPass pass, int pagesStored, DateTimeOffset startedAt, ETag? expected, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var partition = TableKeys.ForTag(tag);
        var pages = pass.PagesAfter(pagesStored).Select(page => PageEntity(partition, page.Number, page.Rows, pass.AnnouncedTotal));
        // The pages first, the cursor last: a crash in between leaves pages the cursor does not count, read again later.
        foreach (var batch in Batches(pages))
        {
            await SubmitAsync(batch, cancellationToken).ConfigureAwait(false);
        }

        var cursor = new TableEntity(partition, CursorRow)
        {
            ["Pages"] = pass.PagesRead,
            ["Rows"] = pass.RowsReadCount,
            ["Total"] = pass.AnnouncedTotal,
            ["StartedAt"] = startedAt,
        };
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
        var entity = new TableEntity(partition, PageKey(number)) { ["Total"] = total };
        var json = JsonSerializer.Serialize(rows.Select(r => new PageRow(r.PhoneNumber, r.RawStatus, r.StopSms, r.StatusAt)), Json);
        SplitText.Write(entity, json);
        return (entity, json.Length);
    }

    private static string PageKey(int number) => "p" + number.ToString("D6", CultureInfo.InvariantCulture);

    private static List<UpstreamRecipient> ReadRows(TableEntity entity)
    {
        var json = SplitText.Read(entity);
        return [.. (JsonSerializer.Deserialize<List<PageRow>>(json, Json) ?? []).Select(r => new UpstreamRecipient(r.PhoneNumber, r.RawStatus, r.StopSms, r.StatusAt))];
    }

    private sealed record PageRow(string PhoneNumber, string RawStatus, bool StopSms, DateTimeOffset? StatusAt);
}
