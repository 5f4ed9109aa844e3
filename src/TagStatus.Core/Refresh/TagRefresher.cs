using Microsoft.Extensions.Logging;
using TagStatus.Core.Domain;
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
    ILogger<TagRefresher> logger)
{
    // Each lost race means another writer committed; this bounds the wait under heavy contention.
    private const int MaxConflictRetries = 8;

    public async Task<RefreshResult> RefreshAsync(Tag tag, RefreshReason reason, CancellationToken cancellationToken)
    {
        var report = await client.GetStatusesByTagAsync(tag, cancellationToken).ConfigureAwait(false);

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await MergeAndSaveAsync(tag, report, reason, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreConflictException) when (attempt < MaxConflictRetries)
            {
                Log.RefreshRaced(logger, tag.Value, attempt);
            }
        }
    }

    private async Task<RefreshResult> MergeAndSaveAsync(Tag tag, UpstreamTagReport report, RefreshReason reason, CancellationToken cancellationToken)
    {
        var stored = await store.GetSummaryAsync(tag, cancellationToken).ConfigureAwait(false);
        // Always read the rows: a save that died between its recipients and its summary leaves rows to merge, not re-add.
        var storedRecipients = await store.GetRecipientsAsync(tag, cancellationToken).ConfigureAwait(false);

        var merge = RecipientMerge.Merge(storedRecipients.Select(r => r.Recipient).ToList(), report.Recipients);
        var etags = storedRecipients.ToDictionary(r => (r.Recipient.PhoneNumber, r.Recipient.Occurrence), r => r.ETag);
        var writes = merge.Changed
            .Select(r => new RecipientWrite(r, etags.TryGetValue((r.PhoneNumber, r.Occurrence), out var etag) ? etag : null))
            .ToList();

        var now = time.GetUtcNow();
        var previous = stored?.Summary;
        var firstSeenAt = previous?.FirstSeenAt ?? now;
        var counts = TagCounts.Of(merge.Recipients);
        // A short answer cannot complete a tag, nor reopen one that a full answer already completed.
        var state = rules.Decide(counts, report.IsComplete || previous?.State == TagState.Complete, firstSeenAt, now);
        var tracked = reason switch
        {
            RefreshReason.Register => true,
            RefreshReason.Lookup => (previous?.Tracked ?? false) || state == TagState.Pending,
            _ => previous?.Tracked ?? false,
        };

        var summary = new TagSummary(
            tag,
            state,
            counts,
            tracked,
            firstSeenAt,
            now,
            state == TagState.Complete ? previous?.CompletedAt ?? now : null,
            tracked ? rules.NextRefreshAt(state, firstSeenAt, now) : null);

        var companions = await changeObserver.OnChangeAsync(previous, summary, cancellationToken).ConfigureAwait(false);
        var rowsWritten = await store.SaveRefreshAsync(writes, summary, stored?.ETag, companions, cancellationToken).ConfigureAwait(false);

        if (previous?.State != state)
        {
            Log.StateChanged(logger, tag.Value, previous?.State.ToApiName() ?? "new", state.ToApiName(), counts.Total, counts.Waiting);
        }

        return new RefreshResult(new TagSnapshot(summary, merge.Recipients), previous?.State, merge.Changed.Count, rowsWritten);
    }

    private static partial class Log
    {
        [LoggerMessage(4001, LogLevel.Information, "Tag {Tag} changed another writer's way (attempt {Attempt}); merging again")]
        public static partial void RefreshRaced(ILogger logger, string tag, int attempt);

        [LoggerMessage(4002, LogLevel.Information, "Tag {Tag} went from {From} to {To} ({Total} recipients, {Waiting} waiting)")]
        public static partial void StateChanged(ILogger logger, string tag, string from, string to, int total, int waiting);
    }
}

/// <summary>
/// Told of every summary about to be written, it returns rows to store in the same transaction (callback deliveries,
/// for instance), so a change and what it triggers are kept together or not at all.
/// </summary>
public interface ITagChangeObserver
{
    ValueTask<IReadOnlyList<TagCompanionRow>> OnChangeAsync(TagSummary? previous, TagSummary current, CancellationToken cancellationToken);
}

/// <summary>For hosts without callbacks: nothing rides along.</summary>
public sealed class NoTagChangeObserver : ITagChangeObserver
{
    public ValueTask<IReadOnlyList<TagCompanionRow>> OnChangeAsync(TagSummary? previous, TagSummary current, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<TagCompanionRow>>([]);
}
