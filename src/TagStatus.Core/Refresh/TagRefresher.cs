using Azure;
using Microsoft.Extensions.Logging;
using TagStatus.Core.Domain;
using TagStatus.Core.Operations;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Refresh;

/// <summary>Why a tag is being refreshed, which decides whether it becomes tracked.</summary>
public enum RefreshReason
{
    /// <summary>A lookup read it live: tracking starts if recipients are still waiting.</summary>
    Lookup,

    /// <summary>The timer's scheduled refresh of a tracked tag.</summary>
    Scheduled,

    /// <summary>A caller asked for the tag to be tracked.</summary>
    Register,
}

/// <param name="Snapshot">The tag as stored after the refresh.</param>
/// <param name="PreviousState">The state before, or null for a tag seen for the first time.</param>
public sealed record RefreshResult(TagSnapshot Snapshot, TagState? PreviousState, int RecipientsChanged, int RowsWritten);

/// <summary>
/// Reads a tag from SMS Partner and merges it into the store: the one path by which upstream data reaches storage,
/// for lookups and the timer alike. A failed upstream read stores nothing; a lost race re-reads and merges again.
/// </summary>
public sealed partial class TagRefresher(
    ISmsPartnerClient client,
    ITagStore store,
    TagStateRules rules,
    ITagChangeObserver changeObserver,
    TimeProvider time,
    ILogger<TagRefresher> logger,
    TagStatusMetrics? metrics = null,
    IRetentionStore? retention = null,
    int rowsPerRange = TagRefresher.DefaultRowsPerRange)
{
    /// <summary>
    /// How long another refresh's tombstone on the range layout keeps this one from writing a layout: that refresh may
    /// still be writing rows this one never read. No invocation runs longer (<c>functionTimeout</c> is 10 minutes).
    /// </summary>
    public static readonly TimeSpan ForeignWriteWindow = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Rows merged and stored as one range: a tag of at most this many is one range (and its merged rows are returned
    /// inline); a bigger one is held about two ranges at a time. Large enough that a range's transactions keep storage
    /// busy (20 of 100 rows), small enough that a 100,000-recipient tag is 50 ranges.
    /// </summary>
    public const int DefaultRowsPerRange = 2_000;

    // Each lost race means another writer committed; this bounds the wait under heavy contention.
    private const int MaxConflictRetries = 8;

    public async Task<RefreshResult> RefreshAsync(Tag tag, RefreshReason reason, CancellationToken cancellationToken)
    {
        var pass = await client.GetStatusesByTagAsync(tag, cancellationToken).ConfigureAwait(false);
        return await SaveAsync(tag, pass, reason, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Merges an ended pass into the store, reading the tag's summary first.</summary>
    public Task<RefreshResult> SaveAsync(Tag tag, UpstreamPass pass, RefreshReason reason, CancellationToken cancellationToken) =>
        SaveAsync(tag, pass, reason, null, summaryRead: false, cancellationToken);

    /// <summary>
    /// Merges an ended pass (a big tag's, read over several invocations, comes this way too) into the store, starting from
    /// the summary the caller just read (<paramref name="summary"/>, null when the tag has none): no second read of it.
    /// </summary>
    public Task<RefreshResult> SaveAsync(Tag tag, UpstreamPass pass, RefreshReason reason, StoredSummary? summary, CancellationToken cancellationToken) =>
        SaveAsync(tag, pass, reason, summary, summaryRead: true, cancellationToken);

    private async Task<RefreshResult> SaveAsync(Tag tag, UpstreamPass pass, RefreshReason reason, StoredSummary? summary, bool summaryRead, CancellationToken cancellationToken)
    {
        var ownTombstones = new List<ETag>();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // The caller's read serves the first attempt; a lost race reads again.
                var stored = summaryRead && attempt == 1 ? summary : await store.GetSummaryAsync(tag, cancellationToken).ConfigureAwait(false);
                return await MergeAndSaveAsync(tag, pass, reason, stored, ownTombstones, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreConflictException) when (attempt < MaxConflictRetries)
            {
                Log.RefreshRaced(logger, tag.Value, attempt);
            }
            catch (RecipientsExpiredException) when (retention is not null && pass.RowsReadCount > 0 && attempt < MaxConflictRetries)
            {
                // The name is in use again after its recipients expired: the old tag goes, this pass stores it as new.
                var expired = await store.GetSummaryAsync(tag, cancellationToken).ConfigureAwait(false);
                if (expired is not null)
                {
                    Log.Restarted(logger, tag.Value, expired.Summary.FirstSeenAt);
                    await retention.RestartExpiredTagAsync(expired, cancellationToken).ConfigureAwait(false);
                    // A tracked name stays tracked: its new campaign is followed like the old one was.
                    reason = expired.Summary.Tracked && reason == RefreshReason.Scheduled ? RefreshReason.Register : reason;
                }
            }
        }
    }

    /// <param name="ownTombstones">Tombstones this save left on the range layout in earlier attempts: not another writer's.</param>
    private async Task<RefreshResult> MergeAndSaveAsync(Tag tag, UpstreamPass pass, RefreshReason reason, StoredSummary? stored, List<ETag> ownTombstones, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var previous = stored?.Summary;
        var firstSeenAt = previous?.FirstSeenAt ?? now;
        var seen = pass.WitnessedByNumber();
        // Read before any range, when the tag is or may become more than one range (one range keeps no layout; from half a
        // range, so a tag near the bound that one refresh writes as one range and another as two is guarded): the layout
        // this merge writes is conditional on the row as it is now.
        var layoutRead = previous?.Counts.Total > rowsPerRange / 2 || pass.DistinctCount > rowsPerRange / 2;
        var layoutRow = layoutRead ? await store.GetRangeLayoutAsync(tag, cancellationToken).ConfigureAwait(false) : null;
        var layout = layoutRow?.Layout is { } last && previous?.RecipientsVersion == last.RecipientsVersion ? last : null;
        // A tombstone left by another refresh that has not committed since (its summary repeats the tombstone's time once it
        // has) may mean that refresh is still writing rows this merge does not see: no layout is kept until every such
        // writer must have ended (ForeignWriteWindow); meanwhile nothing is skipped and rows are merged as read.
        var unsettledSince = UnsettledSince(layoutRow, previous, ownTombstones);
        var mayWriteLayout = unsettledSince is null || unsettledSince < now - ForeignWriteWindow;
        var layoutETag = layoutRow?.ETag;
        // The last write's bounds when they still fit (a range that outgrew them is split afresh, and nothing is skipped).
        var kept = layout is null ? null : RecipientRanges.SplitAt(seen, [.. layout.Ranges.Select(r => r.FromNumber)], 2 * rowsPerRange);
        var ranges = kept ?? RecipientRanges.Split(seen, rowsPerRange);
        var digests = ranges.Select(range => range.Digest(seen, pass.IsFull)).ToList();
        // A range whose upstream rows are what the last write merged in the same bounds, over rows nobody wrote since, merges
        // to what is stored: it is neither read nor written (a big tag waiting for a few stragglers costs its pages and its summary).
        var unchanged = ranges.Select((_, i) => kept is not null && layout!.Ranges[i].Digest == digests[i]).ToList();

        // Range by range in key order: each range's stored rows are read, merged and their changes written before the next
        // range is merged (the next one is read while this one is written), so a big tag holds about two ranges, not all
        // of it. The summary goes last, only once every range is stored: a failure halfway leaves rows it never announced,
        // which the next refresh reads and merges (never re-adds); a lost race anywhere re-reads and merges again.
        var totals = new MergeTotals();
        var optOuts = OptOutChanges.None;
        var states = new List<RangeState>(ranges.Count);
        List<Recipient>? held = ranges.Count == 1 && !unchanged[0] ? [] : null;
        var rowsWritten = 0;
        var layoutForgotten = !layoutRead && ranges.Count == 1; // nothing to forget: no layout was or will be written
        await using var reader = new RangeReader(store, tag, ranges, unchanged);
        var current = await ReadRangeAsync(reader, 0, seen, pass.IsFull, cancellationToken).ConfigureAwait(false);
        for (var i = 0; ; i++)
        {
            var (counts, version) = current is { Merge: var merged }
                ? (TagCounts.Of(merged.Recipients), default(RecipientsVersion).With(merged.Recipients))
                : (layout!.Ranges[i].Counts, layout.Ranges[i].Version);
            var writes = current is { } read ? Writes(read.Stored, read.Merge) : [];
            if (writes.Count > 0 && !layoutForgotten)
            {
                // Before any row moves: a write that dies halfway must leave no layout that would skip the rows it wrote,
                // and the tombstone's new ETag fails the layout write of a refresh that read the row before it.
                layoutETag = await store.ForgetRangeLayoutAsync(tag, now, mayWriteLayout ? null : unsettledSince, layoutETag, stored is null ? firstSeenAt : null, cancellationToken).ConfigureAwait(false);
                ownTombstones.Add(layoutETag.Value);
                layoutForgotten = true;
            }

            var writing = store.SaveRecipientsAsync(tag, stored, firstSeenAt, writes, cancellationToken);
            totals.Add(counts, version, current?.Merge);
            // Opt-outs (recipient.optedOut): a range's stored rows against the rows its merge writes; a range left unchanged
            // wrote nothing, and its stored opt-outs are the ones its layout counted.
            optOuts = optOuts.Add(current is { } changedRange
                ? OptOutChanges.Of([.. changedRange.Stored.Select(r => r.Recipient)], changedRange.Merge.Changed)
                : new OptOutChanges([], counts.OptedOut ?? 0));
            held?.AddRange(current!.Value.Merge.Recipients);
            states.Add(new RangeState(ranges[i].Range.FromNumber, digests[i], counts, version));
            if (i + 1 == ranges.Count)
            {
                rowsWritten += await writing.ConfigureAwait(false);
                break;
            }

            var reading = ReadRangeAsync(reader, i + 1, seen, pass.IsFull, cancellationToken);
            await Task.WhenAll(writing, reading).ConfigureAwait(false);
            rowsWritten += await writing.ConfigureAwait(false);
            current = await reading.ConfigureAwait(false);
        }

        var summary = Summarize(tag, previous, totals, pass, reason, now);
        var companions = await changeObserver.OnChangeAsync(previous, summary, optOuts, cancellationToken).ConfigureAwait(false);
        if (ranges.Count > 1 && mayWriteLayout && (layoutRead || layoutETag is not null))
        {
            // Stored in the summary's own transaction: it describes exactly the rows this summary announces, and it is
            // conditional on the layout row as this merge read it (or its own tombstone): a tombstone left since by another
            // refresh fails the whole transaction, which then merges again.
            companions = [.. companions, new RangeLayout(summary.RecipientsVersion!, states) { Replacing = layoutETag }];
        }

        rowsWritten += await store.SaveRefreshAsync([], summary, stored, companions, cancellationToken).ConfigureAwait(false);
        metrics?.RecordRefreshWrite(pass.PagesRead, rowsWritten);

        if (previous?.State != summary.State)
        {
            Log.StateChanged(logger, tag.Value, previous?.State.ToApiName() ?? "new", summary.State.ToApiName(), summary.Counts.Total, summary.Counts.Waiting);
        }

        if (summary.Partial)
        {
            Log.PartialRead(logger, tag.Value, pass.DistinctCount, pass.AnnouncedTotal, pass.End);
        }

        return new RefreshResult(new TagSnapshot(summary, held), previous?.State, totals.RowsChanged, rowsWritten);
    }

    /// <summary>
    /// Since when writers this merge cannot see may be writing the tag's rows, from the layout row as read: null for a
    /// layout or no row; for a tombstone, its own unsettled time, and its writer's time unless that writer is this save or
    /// committed since (the summary read carries the tombstone's time).
    /// </summary>
    private static DateTimeOffset? UnsettledSince(StoredRangeLayout? row, TagSummary? previous, List<ETag> ownTombstones)
    {
        if (row is not { Layout: null, ForgottenAt: { } forgottenAt })
        {
            return null;
        }

        var writerEnded = ownTombstones.Contains(row.ETag) || (previous is not null && Math.Abs((previous.RefreshedAt - forgottenAt).TotalMilliseconds) < 1);
        return writerEnded ? row.UnsettledSince : Earliest(row.UnsettledSince, forgottenAt);
    }

    private static DateTimeOffset Earliest(DateTimeOffset? a, DateTimeOffset b) => a is { } first && first < b ? first : b;

    /// <summary>
    /// One range: its stored rows (always read: a save that died between its recipients and its summary leaves rows to
    /// merge, not re-add) and the merge of the pass's rows of its numbers into them; null for a range left unchanged.
    /// </summary>
    private static async Task<(IReadOnlyList<StoredRecipient> Stored, MergeResult Merge)?> ReadRangeAsync(
        RangeReader reader, int index, IReadOnlyDictionary<string, IReadOnlyList<UpstreamRecipient>> seen, bool fullPass, CancellationToken cancellationToken)
    {
        if (reader.Unchanged[index])
        {
            return null;
        }

        var storedRows = await reader.ReadAsync(index, cancellationToken).ConfigureAwait(false);
        return (storedRows, RecipientMerge.Merge([.. storedRows.Select(r => r.Recipient)], reader.Ranges[index].SeenIn(seen), fullPass));
    }

    /// <summary>
    /// The stored rows range by range, from one query per run of consecutive ranges to read (the whole partition when none
    /// is skipped), cut where each range ends: as few queries as a whole-tag read, while holding one range.
    /// </summary>
    private sealed class RangeReader(ITagStore store, Tag tag, IReadOnlyList<PassRange> ranges, IReadOnlyList<bool> unchanged) : IAsyncDisposable
    {
        private IAsyncEnumerator<StoredRecipient>? _rows;
        private StoredRecipient? _next;

        public IReadOnlyList<PassRange> Ranges => ranges;

        public IReadOnlyList<bool> Unchanged => unchanged;

        /// <summary>The rows of range <paramref name="index"/>; ranges to read are asked for in order, one at a time.</summary>
        public async Task<IReadOnlyList<StoredRecipient>> ReadAsync(int index, CancellationToken cancellationToken)
        {
            if (_rows is null || unchanged[index - 1])
            {
                await DisposeAsync().ConfigureAwait(false);
                var last = index;
                while (last + 1 < ranges.Count && !unchanged[last + 1])
                {
                    last++;
                }

                _rows = store.ReadRecipientsAsync(tag, new RecipientRange(ranges[index].Range.FromNumber, ranges[last].Range.ToNumber), cancellationToken).GetAsyncEnumerator(cancellationToken);
            }

            var range = ranges[index].Range;
            var rows = new List<StoredRecipient>();
            while (_next is not null || await _rows.MoveNextAsync().ConfigureAwait(false))
            {
                var row = _next ?? _rows.Current;
                if (!range.EndsAfter(row.Recipient.PhoneNumber))
                {
                    _next = row; // the first row of a later range
                    break;
                }

                rows.Add(row);
                _next = null;
            }

            return rows;
        }

        public async ValueTask DisposeAsync()
        {
            if (_rows is not null)
            {
                await _rows.DisposeAsync().ConfigureAwait(false);
                _rows = null;
            }

            _next = null;
        }
    }

    /// <summary>What the summary needs of the merged ranges, added up range by range.</summary>
    private sealed class MergeTotals
    {
        private int _total, _delivered, _notDelivered, _waiting, _unknown;
        private int? _optedOut = 0;

        public RecipientsVersion Version { get; private set; }

        public bool Grew { get; private set; }

        public int RowsChanged { get; private set; }

        public TagCounts Counts => new(_total, _delivered, _notDelivered, _waiting, _unknown, _optedOut);

        /// <param name="merge">The range's merge, or null for a range left unchanged (nothing grew or changed there).</param>
        public void Add(TagCounts counts, RecipientsVersion version, MergeResult? merge)
        {
            _total += counts.Total;
            _delivered += counts.Delivered;
            _notDelivered += counts.NotDelivered;
            _waiting += counts.Waiting;
            _unknown += counts.Unknown;
            _optedOut += counts.OptedOut; // unknown (null) when a range's stored layout predates the count
            Version = Version.Plus(version);
            Grew |= merge?.Grew ?? false;
            RowsChanged += merge is null ? 0 : merge.Changed.Count + merge.Removed.Count;
        }
    }

    /// <summary>The summary after a read: counts of the merged rows, the state by the rules, a new window when the tag reopens.</summary>
    private TagSummary Summarize(Tag tag, TagSummary? previous, MergeTotals merged, UpstreamPass pass, RefreshReason reason, DateTimeOffset now)
    {
        var reopened = TagStateRules.Reopens(previous, merged.Grew, pass.AnnouncedTotal);
        var windowStart = previous is null || reopened ? now : previous.WindowStart;
        var counts = merged.Counts;
        var state = rules.After(previous?.State, reopened, counts, pass.IsFull, windowStart, now);
        var tracked = reopened || reason switch
        {
            RefreshReason.Register => true,
            RefreshReason.Lookup => (previous?.Tracked ?? false) || state == TagState.Pending,
            _ => previous?.Tracked ?? false,
        };
        DateTimeOffset? completedAt = state == TagState.Complete ? previous?.CompletedAt ?? now : null;

        return new TagSummary(
            tag,
            state,
            counts,
            tracked,
            previous?.FirstSeenAt ?? now,
            now,
            completedAt,
            tracked ? rules.NextReadAt(state, windowStart, completedAt, now, pass.PagesRead) : null,
            UpstreamTotal: pass.AnnouncedTotal,
            PartialReason: pass.PartialReason,
            WindowStartedAt: windowStart,
            RecipientsVersion: merged.Version.ToString(),
            LastPassPages: pass.IsFull ? pass.PagesRead : previous?.LastPassPages);
    }

    /// <summary>Changed rows conditional on the ETag they were read with; rows the pass proved were never messages, deleted.</summary>
    private static List<RecipientWrite> Writes(IReadOnlyList<StoredRecipient> stored, MergeResult merge)
    {
        if (merge.Changed.Count == 0 && merge.Removed.Count == 0)
        {
            return [];
        }

        var etags = stored.ToDictionary(r => (r.Recipient.PhoneNumber, r.Recipient.Occurrence), r => r.ETag);
        ETag? ETagOf(Recipient r) => etags.TryGetValue((r.PhoneNumber, r.Occurrence), out var etag) ? etag : null;
        return
        [
            .. merge.Changed.Select(r => new RecipientWrite(r, ETagOf(r))),
            .. merge.Removed.Select(r => new RecipientWrite(r, ETagOf(r), Delete: true)),
        ];
    }

    private static partial class Log
    {
        [LoggerMessage(4001, LogLevel.Information, "Tag {Tag} changed another writer's way (attempt {Attempt}); merging again")]
        public static partial void RefreshRaced(ILogger logger, string tag, int attempt);

        [LoggerMessage(4002, LogLevel.Information, "Tag {Tag} went from {From} to {To} ({Total} recipients, {Waiting} waiting)")]
        public static partial void StateChanged(ILogger logger, string tag, string from, string to, int total, int waiting);

        [LoggerMessage(4004, LogLevel.Information, "Tag {Tag} (first seen {FirstSeenAt}) is past retention and was read again: it starts again as a new tag")]
        public static partial void Restarted(ILogger logger, string tag, DateTimeOffset firstSeenAt);

        [LoggerMessage(4003, LogLevel.Information, "Tag {Tag} was read partially: {Distinct} distinct rows of {Announced} announced, pass ended {End}")]
        public static partial void PartialRead(ILogger logger, string tag, int distinct, int? announced, PassEnd end);
    }
}

/// <summary>
/// Told of every summary about to be written, it returns rows to store in the same transaction (callback deliveries,
/// for instance), so a change and what it triggers are kept together or not at all.
/// </summary>
public interface ITagChangeObserver
{
    /// <param name="optOuts">What the merge did to <c>stopSms</c>; <see cref="OptOutChanges.None"/> when no recipient was merged.</param>
    ValueTask<IReadOnlyList<TagCompanionRow>> OnChangeAsync(TagSummary? previous, TagSummary current, OptOutChanges optOuts, CancellationToken cancellationToken);
}

/// <summary>For hosts without callbacks: nothing rides along.</summary>
public sealed class NoTagChangeObserver : ITagChangeObserver
{
    public ValueTask<IReadOnlyList<TagCompanionRow>> OnChangeAsync(TagSummary? previous, TagSummary current, OptOutChanges optOuts, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<TagCompanionRow>>([]);
}
