using System.Diagnostics;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TagStatus.Core.Domain;

namespace TagStatus.Core.Storage;

/// <summary>
/// The Table Storage store. Tables: <c>Tags</c> (a partition per tag: the summary row and rows that must change with
/// it), <c>Recipients{yyyyMM}</c> (one table per month a tag was first seen, a partition per tag; see <see cref="RecipientMonths"/>;
/// tags stored before months existed stay in <c>Recipients</c>) and <c>TagIndex</c> (partition <c>tracked</c>: the tracked tags' summaries,
/// newest first, for the listing; partition <c>due</c>: the refresh schedule, soonest first).
/// </summary>
public sealed partial class TableTagStore(
    TableServiceClient service,
    IOptions<TagStoreOptions> options,
    ILogger<TableTagStore> logger,
    ICommittedRowsHandler? committed = null,
    IOptions<RetentionOptions>? retention = null,
    TimeProvider? time = null)
    : ITagStore
{
    /// <summary>Table Storage's limit on actions in one transaction.</summary>
    internal const int MaxBatch = 100;

    /// <summary>
    /// Recipient transactions of one refresh sent at once. Two keep a partition near Table Storage's ~2,000 entities a
    /// second at up to 100 ms a transaction; each in flight holds ~3 MB of the SDK's garbage at a time (its response parse),
    /// and four put a big tag's last step 6-10 MB higher with no faster store (bench/README).
    /// </summary>
    private const int RecipientBatchesInFlight = 2;

    private readonly TableClient _tags = service.GetTableClient(options.Value.TablePrefix + "Tags");
    private readonly string _prefix = options.Value.TablePrefix;
    private readonly RetentionOptions _retention = retention?.Value ?? new RetentionOptions();
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly TableClient _index = service.GetTableClient(options.Value.TablePrefix + "TagIndex");
    private readonly TableInitializer _initializer = new(service, options.Value);

    internal TableClient TagsTable => _tags;

    public async Task<StoredSummary?> GetSummaryAsync(Tag tag, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var response = await StorageFailures.Guard(() => _tags.GetEntityIfExistsAsync<SummaryEntity>(TableKeys.ForTag(tag), TableKeys.SummaryRow, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (!response.HasValue || response.Value is not { } entity)
        {
            return null;
        }

        var summary = ToSummary(entity);
        RememberHome(summary);
        return new StoredSummary(summary, entity.ETag) { RecipientsExpired = RecipientsExpired(summary) };
    }

    public async Task<IReadOnlyList<StoredRecipient>> GetRecipientsAsync(Tag tag, CancellationToken cancellationToken)
    {
        var result = new List<StoredRecipient>();
        await foreach (var row in ReadRecipientsAsync(tag, RecipientRange.All, cancellationToken).ConfigureAwait(false))
        {
            result.Add(row);
        }

        return result;
    }

    public async IAsyncEnumerable<StoredRecipient> ReadRecipientsAsync(Tag tag, RecipientRange range, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var (table, month) = await RecipientsTableOfAsync(tag, cancellationToken).ConfigureAwait(false);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.ForTag(tag)}");
        if (range.FromKey is { } from)
        {
            filter += " and " + TableClient.CreateQueryFilter($"RowKey ge {from}");
        }

        if (range.ToKey is { } to)
        {
            filter += " and " + TableClient.CreateQueryFilter($"RowKey lt {to}");
        }

        // One query, read page by page as the caller goes on: rows come in row-key order, and only a page is held here.
        var rows = StorageFailures.Guarded(table.QueryAsync<RecipientEntity>(filter, MaxPerQuery, cancellationToken: cancellationToken)).GetAsyncEnumerator(cancellationToken);
        await using (rows.ConfigureAwait(false))
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await rows.MoveNextAsync().ConfigureAwait(false);
                }
                catch (StoreUnavailableException e) when (IsMissingTable(e))
                {
                    more = month is null ? throw new RecipientsExpiredException(tag.Value, month) : false;
                }

                if (!more)
                {
                    yield break;
                }

                yield return new StoredRecipient(ToRecipient(rows.Current), rows.Current.ETag);
            }
        }
    }

    public async Task<StoredRangeLayout?> GetRangeLayoutAsync(Tag tag, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var response = await StorageFailures.Guard(() => _tags.GetEntityIfExistsAsync<TableEntity>(TableKeys.ForTag(tag), RangeLayout.Row, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return response.HasValue && response.Value is { } entity ? RangeLayout.RowOf(entity) : null;
    }

    public async Task<ETag> ForgetRangeLayoutAsync(Tag tag, DateTimeOffset at, DateTimeOffset? unsettledSince, ETag? expected, DateTimeOffset? newTagFirstSeenAt, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        if (newTagFirstSeenAt is { } firstSeenAt)
        {
            // Before the tag's first row of the Tags table: retention finds a partition only through its seen row.
            var home = new TagSummary(tag, TagState.Pending, TagCounts.Empty, Tracked: false, firstSeenAt, firstSeenAt, CompletedAt: null, NextRefreshAt: null);
            await MarkSeenAsync(WithRecipientsMonth(home, previous: null), previous: null, cancellationToken).ConfigureAwait(false);
        }

        // A tombstone, not a delete: its new ETag fails the layout write of any refresh that read the row before it. And
        // conditional itself, so no refresh hides another one's tombstone without having read it.
        var tombstone = RangeLayout.Tombstone(TableKeys.ForTag(tag), at, unsettledSince);
        try
        {
            var response = expected is { } etag
                ? await _tags.UpdateEntityAsync(tombstone, etag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false)
                : await _tags.AddEntityAsync(tombstone, cancellationToken).ConfigureAwait(false);
            return response.Headers.ETag ?? throw new StoreUnavailableException("Table Storage answered a write without an ETag.");
        }
        catch (RequestFailedException e) when (e.Status is 404 or 409 or 412)
        {
            throw new StoreConflictException($"The range layout of tag '{tag}' changed while it was being merged.", e);
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw StorageFailures.Unavailable(e);
        }
    }

    public async Task<int> SaveRecipientsAsync(Tag tag, StoredSummary? replacing, DateTimeOffset firstSeenAt, IReadOnlyList<RecipientWrite> changed, CancellationToken cancellationToken)
    {
        if (changed.Count == 0)
        {
            return 0;
        }

        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var previous = replacing?.Summary;
        // The table the summary will name: its stored month, or for a new tag the month it is first seen in.
        var home = previous ?? new TagSummary(tag, TagState.Pending, TagCounts.Empty, Tracked: false, firstSeenAt, firstSeenAt, CompletedAt: null, NextRefreshAt: null);
        var recipients = await RecipientsTableForWriteAsync(WithRecipientsMonth(home, previous), cancellationToken).ConfigureAwait(false);
        return await WriteRecipientsAsync(recipients, TableKeys.ForTag(tag), changed, cancellationToken).ConfigureAwait(false);
    }

    public async Task<int> SaveRefreshAsync(
        IReadOnlyList<RecipientWrite> changed,
        TagSummary summary,
        StoredSummary? replacing,
        IReadOnlyList<TagCompanionRow> companions,
        CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var partition = TableKeys.ForTag(summary.Tag);
        var written = 0;
        // Not read again: if it is no longer the stored one, the summary's conditional write fails (a harmless extra due
        // row may be left, dropped when it comes due), and the caller merges again.
        var previous = replacing?.Summary;
        summary = WithRecipientsMonth(summary, previous);
        await MarkSeenAsync(summary, previous, cancellationToken).ConfigureAwait(false); // summary retention's index (TableTagStore.Summaries.cs)
        var recipients = await RecipientsTableForWriteAsync(summary, cancellationToken).ConfigureAwait(false);
        await ScheduleAsync(summary, previous, cancellationToken).ConfigureAwait(false);

        // Recipients first: the summary written last never announces counts its rows do not back.
        written += await WriteRecipientsAsync(recipients, partition, changed, cancellationToken).ConfigureAwait(false);

        if (companions.Count + 1 > MaxBatch)
        {
            throw new InvalidOperationException($"A summary can carry at most {MaxBatch - 1} companion rows; {companions.Count} were given.");
        }

        var summaryEntity = ToEntity(summary);
        var summaryAction = replacing is not null
            ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, summaryEntity, replacing.ETag)
            : new TableTransactionAction(TableTransactionActionType.Add, summaryEntity);
        var batch = new List<TableTransactionAction>(companions.Count + 1) { summaryAction };
        batch.AddRange(companions.Select(row => row.ToAction(partition)));
        written += await SubmitAsync(_tags, batch, cancellationToken).ConfigureAwait(false);

        await UnscheduleAsync(summary, previous, cancellationToken).ConfigureAwait(false);
        written += await SaveIndexAsync(summary, cancellationToken).ConfigureAwait(false);
        if (committed is not null && companions.Count > 0)
        {
            await committed.OnCommittedAsync(companions, cancellationToken).ConfigureAwait(false);
        }

        return written;
    }

    public async Task SaveSummaryAsync(TagSummary summary, ETag? expectedETag, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var previous = await ReadOverwrittenAsync(summary.Tag, expectedETag, cancellationToken).ConfigureAwait(false);
        summary = WithRecipientsMonth(summary, previous);
        await MarkSeenAsync(summary, previous, cancellationToken).ConfigureAwait(false); // summary retention's index (TableTagStore.Summaries.cs)
        await ScheduleAsync(summary, previous, cancellationToken).ConfigureAwait(false);
        var entity = ToEntity(summary);
        try
        {
            if (expectedETag is { } etag)
            {
                await _tags.UpdateEntityAsync(entity, etag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _tags.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            throw new StoreConflictException($"The summary of tag '{summary.Tag}' changed while it was being written.", e);
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw StorageFailures.Unavailable(e);
        }

        await UnscheduleAsync(summary, previous, cancellationToken).ConfigureAwait(false);
        await SaveIndexAsync(summary, cancellationToken).ConfigureAwait(false);
    }

    public async Task ReindexAsync(TagSummary summary, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        // Both derived rows: the schedule row of its next read (an upsert) and the listing row.
        await ScheduleAsync(summary, previous: null, cancellationToken).ConfigureAwait(false);
        await SaveIndexAsync(summary, cancellationToken).ConfigureAwait(false);
    }

    public async Task<TrackedTagPage> ListTrackedAsync(TagState? state, int pageSize, string? continuationToken, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var filter = state is { } wanted
            ? TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.TrackedPartition} and State eq {wanted.ToApiName()}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.TrackedPartition}");

        string? resumeAt = null;
        if (continuationToken is not null && !ListContinuation.TryRead(continuationToken, out resumeAt))
        {
            throw new ArgumentException("The continuation token is not one this service gave.", nameof(continuationToken));
        }

        Page<SummaryEntity>? page;
        try
        {
            page = await _index.QueryAsync<SummaryEntity>(filter, maxPerPage: pageSize, cancellationToken: cancellationToken)
                .AsPages(resumeAt, pageSize)
                .FirstOrDefaultAsync(cancellationToken)
                .ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 400 && continuationToken is not null)
        {
            throw new ArgumentException("The continuation token is not one this service gave.", nameof(continuationToken), e);
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw StorageFailures.Unavailable(e);
        }

        if (page is null)
        {
            return new TrackedTagPage([], null);
        }

        // The listing row carries the summary as of its last write, so a page costs one query, not a read per tag. A row
        // written before listing rows carried it (no FirstSeenAt) is read from its summary until the sweep rewrites it.
        var summaries = await Task.WhenAll(page.Values.Where(entry => Tag.TryParse(entry.Tag, out _, out _))
            .Select(entry => ListedSummaryAsync(entry, cancellationToken))).ConfigureAwait(false);
        return new TrackedTagPage([.. summaries.OfType<TagSummary>()], page.ContinuationToken is { } next ? ListContinuation.Write(next) : null);
    }

    private async Task<int> SaveIndexAsync(TagSummary summary, CancellationToken cancellationToken)
    {
        var rowKey = TableKeys.ForIndex(summary.FirstSeenAt, summary.Tag);
        try
        {
            if (summary.Tracked)
            {
                var listed = ToEntity(summary);
                listed.PartitionKey = TableKeys.TrackedPartition;
                listed.RowKey = rowKey;
                await _index.UpsertEntityAsync(listed, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _index.DeleteEntityAsync(TableKeys.TrackedPartition, rowKey, ETag.All, cancellationToken).ConfigureAwait(false);
            }

            return 1;
        }
        catch (Exception e) when (e is RequestFailedException { Status: not 404 } or AggregateException)
        {
            // The summary is the truth and is already written; the index heals on the tag's next refresh.
            StoreLog.IndexWriteFailed(logger, summary.Tag.Value, e);
            return 0;
        }
        catch (RequestFailedException)
        {
            return 0;
        }
    }

    /// <summary>
    /// A few transactions in flight: each is independent (its own rows, each conditional on its ETag), and the summary
    /// still goes only after all of them. One at a time leaves storage idle while the next batch is serialized.
    /// </summary>
    private static async Task<int> WriteRecipientsAsync(TableClient table, string partition, IReadOnlyList<RecipientWrite> changed, CancellationToken cancellationToken)
    {
        var written = 0;
        await Parallel.ForEachAsync(changed.Chunk(MaxBatch), new ParallelOptions { MaxDegreeOfParallelism = RecipientBatchesInFlight, CancellationToken = cancellationToken }, async (chunk, ct) =>
        {
            var actions = chunk.Select(write => ToAction(partition, write)).ToList();
            Interlocked.Add(ref written, await SubmitAsync(table, actions, ct).ConfigureAwait(false));
        }).ConfigureAwait(false);
        return written;
    }

    private static async Task<int> SubmitAsync(TableClient table, List<TableTransactionAction> actions, CancellationToken cancellationToken)
    {
        // Azurite accepts cross-partition transactions that Azure rejects: never send one.
        var partition = actions[0].Entity.PartitionKey;
        if (actions.Count > MaxBatch || actions.Any(action => action.Entity.PartitionKey != partition))
        {
            throw new UnreachableException("A transaction must stay within one partition and 100 actions.");
        }

        try
        {
            await table.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false);
            return actions.Count;
        }
        catch (TableTransactionFailedException e) when (e.Status is 404 or 409 or 412)
        {
            // 404: a row an update or delete expected is gone (removed by another writer, or by retention) since it was read.
            throw new StoreConflictException("A row changed while the tag was being written.", e);
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw StorageFailures.Unavailable(e);
        }
    }

    private static TableTransactionAction ToAction(string partition, RecipientWrite write)
    {
        var recipient = write.Recipient;
        var entity = new RecipientEntity
        {
            PartitionKey = partition,
            RowKey = TableKeys.ForRecipient(recipient.PhoneNumber, recipient.Occurrence),
            PhoneNumber = recipient.PhoneNumber,
            Occurrence = recipient.Occurrence,
            Status = recipient.Status.ToApiName(),
            RawStatus = recipient.RawStatus,
            StopSms = recipient.StopSms,
            StatusAt = recipient.StatusAt,
        };
        return write switch
        {
            { Delete: true } => new TableTransactionAction(TableTransactionActionType.Delete, entity, write.ExpectedETag ?? ETag.All),
            { ExpectedETag: { } etag } => new TableTransactionAction(TableTransactionActionType.UpdateReplace, entity, etag),
            _ => new TableTransactionAction(TableTransactionActionType.Add, entity),
        };
    }

    private static Recipient ToRecipient(RecipientEntity entity) => new(
        entity.PhoneNumber,
        entity.Occurrence,
        DeliveryStatuses.TryParseApiName(entity.Status, out var status) ? status : DeliveryStatus.Unknown,
        entity.RawStatus,
        entity.StopSms,
        entity.StatusAt);

    /// <summary>A listing row of the first versions: tag, state and next refresh only, no copy of the summary.</summary>
    internal static bool IsListingOfOldShape(SummaryEntity entry) => entry.FirstSeenAt == default;

    /// <summary>The summary a listing row stands for: its own copy, or for a row of the first versions the summary itself.</summary>
    private async Task<TagSummary?> ListedSummaryAsync(SummaryEntity entry, CancellationToken cancellationToken) =>
        IsListingOfOldShape(entry) ? (await GetSummaryAsync(Tag.Parse(entry.Tag), cancellationToken).ConfigureAwait(false))?.Summary : ToSummary(entry);

    private static SummaryEntity ToEntity(TagSummary summary) => new()
    {
        PartitionKey = TableKeys.ForTag(summary.Tag),
        Tag = summary.Tag.Value,
        State = summary.State.ToApiName(),
        Tracked = summary.Tracked,
        Total = summary.Counts.Total,
        Delivered = summary.Counts.Delivered,
        NotDelivered = summary.Counts.NotDelivered,
        Waiting = summary.Counts.Waiting,
        Unknown = summary.Counts.Unknown,
        OptedOut = summary.Counts.OptedOut,
        FirstSeenAt = summary.FirstSeenAt,
        RefreshedAt = summary.RefreshedAt,
        CompletedAt = summary.CompletedAt,
        NextRefreshAt = summary.NextRefreshAt,
        FailedRefreshes = summary.FailedRefreshes,
        UpstreamTotal = summary.UpstreamTotal,
        PartialReason = summary.PartialReason,
        WindowStartedAt = summary.WindowStartedAt,
        RecipientsVersion = summary.RecipientsVersion,
        RecipientsMonth = summary.RecipientsMonth,
        LastPassPages = summary.LastPassPages,
    };

    private static TagSummary ToSummary(SummaryEntity entity) => new(
        Tag.Parse(entity.Tag),
        TagStates.TryParseApiName(entity.State, out var state) ? state : TagState.Pending,
        new TagCounts(entity.Total, entity.Delivered, entity.NotDelivered, entity.Waiting, entity.Unknown, entity.OptedOut),
        entity.Tracked,
        entity.FirstSeenAt,
        entity.RefreshedAt,
        entity.CompletedAt,
        entity.NextRefreshAt,
        entity.FailedRefreshes,
        entity.UpstreamTotal,
        entity.PartialReason,
        entity.WindowStartedAt,
        entity.RecipientsVersion,
        entity.RecipientsMonth,
        entity.LastPassPages);
}

/// <summary>Creates the tables once per process, on first use rather than at start-up.</summary>
/// <summary>Creates the app's tables once per process, when <see cref="TagStoreOptions.CreatesTablesAndQueues"/> says so (Azurite).</summary>
internal sealed class TableInitializer(TableServiceClient service, TagStoreOptions options)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _ready = !options.CreatesTablesAndQueues;

    public async ValueTask EnsureAsync(CancellationToken cancellationToken)
    {
        if (_ready)
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_ready)
            {
                return;
            }

            foreach (var name in TagStoreOptions.TableNames)
            {
                await service.GetTableClient(options.TablePrefix + name).CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
            }

            _ready = true;
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw new StoreUnavailableException("Table Storage could not be prepared.", e);
        }
        finally
        {
            _gate.Release();
        }
    }
}

internal static partial class StoreLog
{
    [LoggerMessage(2001, LogLevel.Warning, "The tracking index row of tag {Tag} could not be written; it heals on the next refresh")]
    public static partial void IndexWriteFailed(ILogger logger, string tag, Exception exception);

    [LoggerMessage(2002, LogLevel.Warning, "The previous schedule row of tag {Tag} could not be removed; it is dropped when it comes due")]
    public static partial void DueRowNotRemoved(ILogger logger, string tag, Exception exception);
}
