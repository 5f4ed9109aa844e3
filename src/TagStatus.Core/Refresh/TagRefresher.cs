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
    int rowsPerRange = TagRefresher.DefaultRowsPerRange,
    int rowsPerGroup = TagRefresher.DefaultRowsPerGroup)
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

    /// <summary>
    /// Rows of a pass that does not hold its pages (<see cref="UpstreamPass.Counting"/>: a big tag's last step) taken back
    /// at once, as a group of consecutive ranges: a 100,000-row pass is ~10 reads of its spill (tens of milliseconds
    /// each) while the merge holds ~2 MB of rows instead of ~22 MB.
    /// </summary>
    public const int DefaultRowsPerGroup = 10_000;

    // Each lost race means another writer committed; this bounds the wait under heavy contention.
    private const int MaxConflictRetries = 8;

    /// <summary>
    /// Reads every page of the tag at once, held, and merges it. The app never does (a caller waits for at most
    /// <see cref="Lookup.InlineRead"/>'s pages, the queue reads in steps); it serves tools and tests of the merge.
    /// </summary>
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

        // Range by range in key order: each range's stored rows are read, merged and their changes written before the next
        // range is merged (the next one is read while this one is written), so a big tag holds about two ranges, not all
        // of it. The summary goes last, only once every range is stored: a failure halfway leaves rows it never announced,
        // which the next refresh reads and merges (never re-adds); a lost race anywhere re-reads and merges again.
        var totals = new MergeTotals();
        var optOuts = OptOutChanges.None;
        var states = new List<RangeState>();
        var rowsWritten = 0;
        await using var feed = new RangeFeed(store, tag, pass, layout, rowsPerRange, rowsPerGroup);
        var current = await feed.NextAsync(cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("A pass has at least one range.");
        List<Recipient>? held = feed.IsSingleRange && current.Merge is not null ? [] : null;
        var layoutForgotten = !layoutRead && feed.IsSingleRange; // nothing to forget: no layout was or will be written
        while (true)
        {
            var (counts, version) = current.Merge is { } merged
                ? (TagCounts.Of(merged.Recipients), default(RecipientsVersion).With(merged.Recipients))
                : (current.Kept!.Counts, current.Kept.Version);
            var writes = current.Merge is { } changed ? Writes(current.Stored!, changed) : [];
            if (writes.Count > 0 && !layoutForgotten)
            {
                // Before any row moves: a write that dies halfway must leave no layout that would skip the rows it wrote,
                // and the tombstone's new ETag fails the layout write of a refresh that read the row before it.
                layoutETag = await store.ForgetRangeLayoutAsync(tag, now, mayWriteLayout ? null : unsettledSince, layoutETag, stored is null ? firstSeenAt : null, cancellationToken).ConfigureAwait(false);
                ownTombstones.Add(layoutETag.Value);
                layoutForgotten = true;
            }

            var writing = store.SaveRecipientsAsync(tag, stored, firstSeenAt, writes, cancellationToken);
            totals.Add(counts, version, current.Merge);
            // Opt-outs (recipient.optedOut): a range's stored rows against the rows its merge writes; a range left unchanged
            // wrote nothing, and its stored opt-outs are the ones its layout counted.
            optOuts = optOuts.Add(current.Merge is { } mergedRange
                ? OptOutChanges.Of([.. current.Stored!.Select(r => r.Recipient)], mergedRange.Changed)
                : new OptOutChanges([], counts.OptedOut ?? 0));
            held?.AddRange(current.Merge!.Recipients);
            states.Add(new RangeState(current.Range.Range.FromNumber, current.Digest, counts, version));
            var reading = feed.NextAsync(cancellationToken);
            await Task.WhenAll(writing, reading).ConfigureAwait(false);
            rowsWritten += await writing.ConfigureAwait(false);
            if (await reading.ConfigureAwait(false) is not { } next)
            {
                break;
            }

            current = next;
        }

        var summary = Summarize(tag, previous, totals, pass, reason, now);
        var companions = await changeObserver.OnChangeAsync(previous, summary, optOuts, cancellationToken).ConfigureAwait(false);
        if (states.Count > 1 && mayWriteLayout && (layoutRead || layoutETag is not null))
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

    /// <summary>One range as the merge takes it: its bounds and digest, and its stored rows and their merge, or the layout's
    /// state when it is left unchanged (neither read nor written).</summary>
    private sealed record RangeStep(PassRange Range, string Digest, RangeState? Kept, IReadOnlyList<StoredRecipient>? Stored, MergeResult? Merge);

    /// <summary>Consecutive ranges whose pass rows are taken back at once; <c>LayoutRanges</c>: the last write's ranges in them.</summary>
    private sealed record RangeGroup(RecipientRange Bounds, IReadOnlyList<RangeState>? LayoutRanges);

    /// <summary>
    /// The pass's ranges in key order, a group at a time: a pass that holds its pages is one group; a big one that only
    /// counts them (<see cref="UpstreamPass.Counting"/>) is cut into groups of about <c>rowsPerGroup</c> rows, along the
    /// last write's ranges when there is a layout, else at numbers drawn from the pass. Within a group, ranges keep the
    /// last write's bounds while they fit (and one whose rows have the digest they had is left unchanged), or are split
    /// afresh; each range's stored rows are read (always: a save that died between its recipients and its summary leaves
    /// rows to merge, not re-add) and merged with the pass's rows of its numbers.
    /// </summary>
    private sealed class RangeFeed(ITagStore store, Tag tag, UpstreamPass pass, RangeLayout? layout, int rowsPerRange, int rowsPerGroup) : IAsyncDisposable
    {
        private readonly IReadOnlyList<RangeGroup> _groups = Groups(pass, layout, rowsPerGroup);
        private int _group = -1;
        private Loaded? _loaded;
        private int _next;

        /// <summary>The pass is one range (known once the first range is taken).</summary>
        public bool IsSingleRange => _groups.Count == 1 && _loaded?.Ranges.Count == 1;

        /// <returns>The next range, or null after the last.</returns>
        public async Task<RangeStep?> NextAsync(CancellationToken cancellationToken)
        {
            while (_loaded is null || _next == _loaded.Ranges.Count)
            {
                if (_group + 1 == _groups.Count)
                {
                    return null;
                }

                await DisposeAsync().ConfigureAwait(false);
                _loaded = null; // one group's rows at a time
                _loaded = Load(_groups[++_group]);
                _next = 0;
            }

            var loaded = _loaded;
            var index = _next++;
            var range = loaded.Ranges[index];
            if (loaded.Unchanged[index])
            {
                return new RangeStep(range, loaded.Digests[index], loaded.Group.LayoutRanges![index], null, null);
            }

            var storedRows = await loaded.Reader.ReadAsync(index, cancellationToken).ConfigureAwait(false);
            var merge = RecipientMerge.Merge([.. storedRows.Select(r => r.Recipient)], range.SeenIn(loaded.Seen), pass.IsFull);
            return new RangeStep(range, loaded.Digests[index], null, storedRows, merge);
        }

        public async ValueTask DisposeAsync()
        {
            if (_loaded is not null)
            {
                await _loaded.Reader.DisposeAsync().ConfigureAwait(false);
            }
        }

        private Loaded Load(RangeGroup group)
        {
            var seen = pass.HoldsAllPages ? pass.WitnessedByNumber() : pass.WitnessedIn(group.Bounds.Contains);
            // The last write's bounds when they still fit (a range that outgrew them is split afresh, and none is skipped).
            var kept = group.LayoutRanges is { } last ? RecipientRanges.SplitAt(seen, group.Bounds, [.. last.Select(r => r.FromNumber)], 2 * rowsPerRange) : null;
            var ranges = kept ?? RecipientRanges.Split(seen, rowsPerRange, group.Bounds);
            var digests = ranges.Select(range => range.Digest(seen, pass.IsFull)).ToList();
            // A range whose upstream rows are what the last write merged in the same bounds, over rows nobody wrote since,
            // merges to what is stored: it is neither read nor written (a big tag waiting for a few stragglers costs its
            // pages and its summary).
            var unchanged = ranges.Select((_, i) => kept is not null && group.LayoutRanges![i].Digest == digests[i]).ToList();
            return new Loaded(group, seen, ranges, digests, unchanged, new RangeReader(store, tag, ranges, unchanged));
        }

        private static IReadOnlyList<RangeGroup> Groups(UpstreamPass pass, RangeLayout? layout, int rowsPerGroup)
        {
            var layoutRanges = layout?.Ranges is [{ FromNumber: null }, ..] ranges && ranges.Skip(1).All(r => r.FromNumber is not null) ? ranges : null;
            if (pass.HoldsAllPages)
            {
                return [new RangeGroup(RecipientRange.All, layoutRanges)];
            }

            if (layoutRanges is not null)
            {
                // Along the last write's ranges, by the rows they held then.
                var groups = new List<List<RangeState>>();
                var rows = 0;
                foreach (var range in layoutRanges)
                {
                    if (groups.Count == 0 || (rows > 0 && rows + range.Counts.Total > rowsPerGroup))
                    {
                        groups.Add([]);
                        rows = 0;
                    }

                    groups[^1].Add(range);
                    rows += range.Counts.Total;
                }

                return [.. groups.Select((g, i) => new RangeGroup(new RecipientRange(g[0].FromNumber, i + 1 < groups.Count ? groups[i + 1][0].FromNumber : null), g))];
            }

            // At numbers drawn evenly from the pass's rows: groups of about rowsPerGroup rows, without holding the numbers.
            var count = (pass.DistinctCount + rowsPerGroup - 1) / rowsPerGroup;
            var sample = pass.NumberSample.Select(number => (Number: number, Key: TableKeys.RecipientKeyPrefix(number)))
                .OrderBy(n => n.Key, StringComparer.Ordinal).ToList();
            var starts = new List<string?> { null };
            for (var g = 1; g < count && sample.Count > 0; g++)
            {
                var at = sample[g * sample.Count / count];
                if (starts[^1] is not { } previous || string.CompareOrdinal(TableKeys.RecipientKeyPrefix(previous), at.Key) < 0)
                {
                    starts.Add(at.Number);
                }
            }

            return [.. starts.Select((from, i) => new RangeGroup(new RecipientRange(from, i + 1 < starts.Count ? starts[i + 1] : null), null))];
        }

        private sealed record Loaded(
            RangeGroup Group,
            IReadOnlyDictionary<string, IReadOnlyList<UpstreamRecipient>> Seen,
            IReadOnlyList<PassRange> Ranges,
            IReadOnlyList<string> Digests,
            IReadOnlyList<bool> Unchanged,
            RangeReader Reader);
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
