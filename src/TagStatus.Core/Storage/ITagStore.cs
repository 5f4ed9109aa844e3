using Azure;
using TagStatus.Core.Domain;

namespace TagStatus.Core.Storage;

public sealed record StoredSummary(TagSummary Summary, ETag ETag)
{
    /// <summary>The tag's recipients are past retention: the summary answers, but is no longer a cache of SMS Partner's rows.</summary>
    public bool RecipientsExpired { get; init; }
}

public sealed record StoredRecipient(Recipient Recipient, ETag ETag);

/// <summary>A recipient to write (or, with <see cref="Delete"/>, to delete); <see cref="ExpectedETag"/> null means a new row.</summary>
public sealed record RecipientWrite(Recipient Recipient, ETag? ExpectedETag, bool Delete = false);

/// <summary>
/// A page of a tag's recipients in storage order, and the service's opaque token of the next page (null at the end).
/// The service may end a filtered page early (fewer rows than asked, even none) and still give a token.
/// </summary>
public sealed record RecipientPage(IReadOnlyList<Recipient> Recipients, string? ContinuationToken);

/// <summary>Which of a tag's recipients a page holds: those in any of <paramref name="Statuses"/> (all when null), and
/// with <c>stopSms</c> as <paramref name="StopSms"/> says (either when null).</summary>
public sealed record RecipientFilter(IReadOnlySet<DeliveryStatus>? Statuses, bool? StopSms = null)
{
    public bool Matches(Recipient recipient) =>
        (Statuses is null || Statuses.Contains(recipient.Status)) && (StopSms is not { } stop || recipient.StopSms == stop);
}

/// <summary>The claim on a tag's upstream read, held until <see cref="Until"/> unless released first.</summary>
public sealed record RefreshClaim(Tag Tag, DateTimeOffset Until, ETag ETag);

/// <summary>A page of tracked tags, newest first.</summary>
public sealed record TrackedTagPage(IReadOnlyList<TagSummary> Tags, string? ContinuationToken);

/// <summary>A tracked tag as the listing has it; <see cref="NeedsReindex"/> for a row of the first versions (no schedule row either).</summary>
public sealed record TrackedListing(TagSummary Summary, bool NeedsReindex);

/// <summary>A row of the refresh schedule: a tag due at a time, with its estimated upstream pages.</summary>
/// <param name="Claimed">Moved ahead by a claim: its refresh is queued or running (a big tag's pass included) until then.</param>
public sealed record DueTag(Tag Tag, DateTimeOffset DueAt, int Pages, bool Claimed = false);

/// <summary>Tag summaries, recipients and the tracking index in Table Storage.</summary>
public interface ITagStore
{
    Task<StoredSummary?> GetSummaryAsync(Tag tag, CancellationToken cancellationToken);

    Task<IReadOnlyList<StoredRecipient>> GetRecipientsAsync(Tag tag, CancellationToken cancellationToken);

    /// <summary>
    /// The tag's stored rows in a range of numbers (<see cref="RecipientRanges"/>), in row-key order, streamed: one
    /// partition-scoped RowKey-range query read a page at a time as the caller goes on.
    /// </summary>
    IAsyncEnumerable<StoredRecipient> ReadRecipientsAsync(Tag tag, RecipientRange range, CancellationToken cancellationToken);

    /// <summary>
    /// Writes changed recipients ahead of their summary (a refresh stores its ranges one by one, then calls
    /// <see cref="SaveRefreshAsync"/>), each conditional on the ETag it was read with, into the table the summary will name:
    /// the stored summary's (<paramref name="replacing"/>), or for a new tag the month of <paramref name="firstSeenAt"/>.
    /// Returns the rows written.
    /// </summary>
    /// <exception cref="StoreConflictException">A row changed since it was read: read again and redo the merge.</exception>
    Task<int> SaveRecipientsAsync(Tag tag, StoredSummary? replacing, DateTimeOffset firstSeenAt, IReadOnlyList<RecipientWrite> changed, CancellationToken cancellationToken);

    /// <summary>
    /// One page of the tag's recipients (those <paramref name="filter"/> matches, when given): one query of the tag's
    /// partition, resumed where <paramref name="continuationToken"/> (a token of an earlier page) says.
    /// </summary>
    /// <exception cref="ArgumentException">The token is not one this service gave.</exception>
    Task<RecipientPage> GetRecipientPageAsync(Tag tag, RecipientFilter? filter, int pageSize, string? continuationToken, CancellationToken cancellationToken);

    /// <summary>
    /// Claims the tag's upstream read until <paramref name="until"/> for exactly one caller across instances (an
    /// ETag-conditional write of its <c>RefreshingUntil</c>); null while another caller's claim holds.
    /// </summary>
    Task<RefreshClaim?> TryClaimRefreshAsync(Tag tag, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>Gives a claim up before its time (the read is over); a claim already taken over is left alone.</summary>
    Task ReleaseRefreshAsync(RefreshClaim claim, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the schedule row of the summary's new due time, the changed recipients (each conditional on the ETag it
    /// was read with), then the summary (conditional on the ETag of <paramref name="replacing"/>, the stored summary the
    /// caller read, or new when null) together with <paramref name="companions"/> in one transaction, then drops the
    /// due row of <paramref name="replacing"/>, writes the listing and hands the stored companions on
    /// (<see cref="ICommittedRowsHandler"/>). Returns the rows written. The summary is not read again: the condition
    /// on its ETag proves it is the one replaced.
    /// </summary>
    /// <exception cref="StoreConflictException">Another writer got there first: read again and redo the merge.</exception>
    Task<int> SaveRefreshAsync(
        IReadOnlyList<RecipientWrite> changed,
        TagSummary summary,
        StoredSummary? replacing,
        IReadOnlyList<TagCompanionRow> companions,
        CancellationToken cancellationToken);

    /// <summary>The tag's range layout row: the ranges of its last full write, or a refresh's tombstone (null when no row is stored).</summary>
    Task<StoredRangeLayout?> GetRangeLayoutAsync(Tag tag, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the tag's range layout row, as the caller read it (<paramref name="expected"/>, null when there was none),
    /// with a tombstone stamped <paramref name="at"/> (a refresh does, before it writes any row); returns the tombstone's
    /// ETag, on which the refresh's own layout write is then conditional.
    /// </summary>
    /// <param name="unsettledSince">When the earliest writer started that the caller could not rule out is still writing.</param>
    /// <param name="newTagFirstSeenAt">
    /// For a tag with no summary yet, when it was first seen: its seen index row is written first, so summary retention
    /// finds and removes the partition even when the refresh dies before its summary.
    /// </param>
    /// <exception cref="StoreConflictException">The row changed since it was read: merge again.</exception>
    Task<ETag> ForgetRangeLayoutAsync(Tag tag, DateTimeOffset at, DateTimeOffset? unsettledSince, ETag? expected, DateTimeOffset? newTagFirstSeenAt, CancellationToken cancellationToken);

    /// <summary>Writes a summary alone (tracking switched on or off, a failed refresh recorded), schedule rows as above.</summary>
    /// <exception cref="StoreConflictException">The summary changed since it was read.</exception>
    Task SaveSummaryAsync(TagSummary summary, ETag? expectedETag, CancellationToken cancellationToken);

    /// <summary>Writes the tracking index row of a summary again (it is derived, so this is always safe).</summary>
    Task ReindexAsync(TagSummary summary, CancellationToken cancellationToken);

    /// <summary>Schedule rows due at or before <paramref name="now"/>, oldest first: one key-range query of due rows only.</summary>
    Task<IReadOnlyList<DueTag>> GetDueTagsAsync(DateTimeOffset now, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Moves a due row to <paramref name="leaseUntil"/> (a lease: if its refresh never finishes, it comes due again then).
    /// Null when another run claimed it first.
    /// </summary>
    Task<DueTag?> ClaimDueAsync(DueTag due, DateTimeOffset leaseUntil, CancellationToken cancellationToken);

    /// <summary>
    /// The claims still running: claimed rows due after <paramref name="now"/> and up to <paramref name="until"/> (one key
    /// range of the schedule: the claims of the last lease, and the rows due within it, which are read and skipped).
    /// </summary>
    Task<IReadOnlyList<DueTag>> GetClaimsInFlightAsync(DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>
    /// Writes a claimed row for work the timer did not queue (a refresh a lookup asked for), due a lease ahead, so the
    /// timer counts it in flight; it is renewed by <see cref="ClaimDueAsync"/> and removed by <see cref="RemoveDueAsync"/>.
    /// </summary>
    Task<DueTag> HoldInFlightAsync(Tag tag, DateTimeOffset until, int pages, CancellationToken cancellationToken);

    /// <summary>Removes one schedule row; a row already gone is fine.</summary>
    Task RemoveDueAsync(DueTag due, CancellationToken cancellationToken);

    /// <summary>Writes the schedule row of a summary's due time again (a repair: harmless when it exists).</summary>
    Task EnsureDueAsync(TagSummary summary, CancellationToken cancellationToken);

    /// <summary>
    /// The listing's tracked tags first seen after <paramref name="firstSeenAfter"/>: one key-range query (plus a summary
    /// read for each listing row of the first versions, which carried no copy of the summary).
    /// </summary>
    Task<IReadOnlyList<TrackedListing>> GetTrackedSinceAsync(DateTimeOffset firstSeenAfter, CancellationToken cancellationToken);

    /// <summary>
    /// True for exactly one caller per <paramref name="every"/>, across instances (an ETag-conditional row): the one
    /// that runs the sweep.
    /// </summary>
    Task<bool> TryClaimSweepAsync(DateTimeOffset now, TimeSpan every, CancellationToken cancellationToken);

    Task<TrackedTagPage> ListTrackedAsync(TagState? state, int pageSize, string? continuationToken, CancellationToken cancellationToken);
}

/// <summary>
/// A row kept in the tag's own partition of the <c>Tags</c> table and written in the same transaction as its summary
/// (a callback delivery, say), so a state change and what it must trigger are stored together or not at all.
/// </summary>
public abstract record TagCompanionRow
{
    internal abstract Azure.Data.Tables.ITableEntity ToEntity(string partitionKey);

    /// <summary>How the row goes into the summary's transaction: stored whatever was there, unless the row says otherwise.</summary>
    internal virtual Azure.Data.Tables.TableTransactionAction ToAction(string partitionKey) =>
        new(Azure.Data.Tables.TableTransactionActionType.UpsertReplace, ToEntity(partitionKey));
}

/// <summary>
/// Told of companion rows once their transaction committed, it hands them on (a queue message per callback delivery).
/// It never throws for a failed hand-on: the stored row is found again by the sweep.
/// </summary>
public interface ICommittedRowsHandler
{
    ValueTask OnCommittedAsync(IReadOnlyList<TagCompanionRow> companions, CancellationToken cancellationToken);
}

/// <summary>Another writer changed the tag first.</summary>
public sealed class StoreConflictException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Table Storage could not be reached or failed.</summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
