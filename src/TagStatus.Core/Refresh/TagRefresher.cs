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
    IRetentionStore? retention = null)
{
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
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // The caller's read serves the first attempt; a lost race reads again.
                var stored = summaryRead && attempt == 1 ? summary : await store.GetSummaryAsync(tag, cancellationToken).ConfigureAwait(false);
                return await MergeAndSaveAsync(tag, pass, reason, stored, cancellationToken).ConfigureAwait(false);
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
                }
            }
        }
    }

    private async Task<RefreshResult> MergeAndSaveAsync(Tag tag, UpstreamPass pass, RefreshReason reason, StoredSummary? stored, CancellationToken cancellationToken)
    {
        // Always read the rows: a save that died between its recipients and its summary leaves rows to merge, not re-add.
        var storedRecipients = await store.GetRecipientsAsync(tag, cancellationToken).ConfigureAwait(false);

        var merge = RecipientMerge.Merge(storedRecipients.Select(r => r.Recipient).ToList(), pass);
        var previous = stored?.Summary;
        var summary = Summarize(tag, previous, merge, pass, reason);

        // Opt-outs: the stored rows against the rows this merge writes (issue 15's recipient.optedOut).
        var optOuts = OptOutChanges.Of(storedRecipients.Select(r => r.Recipient).ToList(), merge.Changed);
        var companions = await changeObserver.OnChangeAsync(previous, summary, optOuts, cancellationToken).ConfigureAwait(false);
        var rowsWritten = await store.SaveRefreshAsync(Writes(storedRecipients, merge), summary, stored, companions, cancellationToken).ConfigureAwait(false);
        metrics?.RecordRefreshWrite(pass.PagesRead, rowsWritten);

        if (previous?.State != summary.State)
        {
            Log.StateChanged(logger, tag.Value, previous?.State.ToApiName() ?? "new", summary.State.ToApiName(), summary.Counts.Total, summary.Counts.Waiting);
        }

        if (summary.Partial)
        {
            Log.PartialRead(logger, tag.Value, pass.DistinctCount, pass.AnnouncedTotal, pass.End);
        }

        return new RefreshResult(new TagSnapshot(summary, merge.Recipients), previous?.State, merge.Changed.Count + merge.Removed.Count, rowsWritten);
    }

    /// <summary>The summary after a read: counts of the merged rows, the state by the rules, a new window when the tag reopens.</summary>
    private TagSummary Summarize(Tag tag, TagSummary? previous, MergeResult merge, UpstreamPass pass, RefreshReason reason)
    {
        var now = time.GetUtcNow();
        var reopened = TagStateRules.Reopens(previous, merge.Grew, pass.AnnouncedTotal);
        var windowStart = previous is null || reopened ? now : previous.WindowStart;
        var counts = TagCounts.Of(merge.Recipients);
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
            RecipientsVersion: RecipientsVersions.Of(merge.Recipients));
    }

    /// <summary>Changed rows conditional on the ETag they were read with; rows the pass proved were never messages, deleted.</summary>
    private static List<RecipientWrite> Writes(IReadOnlyList<StoredRecipient> stored, MergeResult merge)
    {
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
