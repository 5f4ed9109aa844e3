using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TagStatus.Core.Domain;
using TagStatus.Core.Operations;
using TagStatus.Core.Queues;
using TagStatus.Core.Refresh;
using TagStatus.Core.Secrets;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Tracking;

/// <summary>What became of one refresh message.</summary>
public enum QueuedRefreshOutcome
{
    /// <summary>Read and stored; the schedule row of its next refresh is written.</summary>
    Refreshed,

    /// <summary>SMS Partner or a secret failed: recorded, and the tag is retried with back-off.</summary>
    Failed,

    /// <summary>A big tag's pass read its share of pages and goes on in a follow-up message.</summary>
    Continued,

    /// <summary>Nothing to do: the tag is untracked, unknown, past its re-checks, or was read since it was queued.</summary>
    Dropped,
}

/// <summary>
/// Refreshes the one tag a refresh message names, then removes the schedule row the timer claimed for it. A message
/// delivered twice refreshes at most once in practice (the second finds the tag no longer due) and is harmless anyway:
/// the merge is idempotent and every write is ETag-conditional.
/// </summary>
public sealed partial class RefreshQueueProcessor(
    ITagStore store,
    StepwiseRefresher refresher,
    IWorkQueue queue,
    TrackingService tracking,
    IOptions<TrackingOptions> options,
    TimeProvider time,
    ILogger<RefreshQueueProcessor> logger,
    OperationsMonitor? monitor = null)
{
    /// <summary>Refreshed within this much of its message's due time, a tag is not refreshed again.</summary>
    private static readonly TimeSpan NotDueSlack = TimeSpan.FromSeconds(1);

    /// <exception cref="StoreUnavailableException">Storage failed: the message should come back (the queue retries it).</exception>
    public async Task<QueuedRefreshOutcome> ProcessAsync(RefreshMessage message, CancellationToken cancellationToken)
    {
        if (!Tag.TryParse(message.Tag, out var tag, out _))
        {
            Log.NotATag(logger);
            return QueuedRefreshOutcome.Dropped;
        }

        var stored = await store.GetSummaryAsync(tag, cancellationToken).ConfigureAwait(false);
        // The claimed row's key is its tag and time (for a refresh a lookup asked for, the row it holds); its pages ride on a
        // renewed claim, where the timer counts them in flight.
        var claimed = new DueTag(tag, message.HeldUntil ?? message.DueAt, Pages: stored?.Summary.EstimatedPages ?? 1, Claimed: message.HeldUntil is not null);
        if (!(message.Requested ? IsStillWanted(message, stored?.Summary) : message.FollowUp ? stored?.Summary.Tracked == true : IsDue(stored?.Summary)))
        {
            // Untracked, past its re-checks, or read by a lookup since it was queued. The claim moved the tag's own row,
            // so it is written again (an idempotent upsert) before the claimed one goes: a tag is never left without one.
            if (stored?.Summary is { Tracked: true, NextRefreshAt: not null } summary)
            {
                await store.EnsureDueAsync(summary, cancellationToken).ConfigureAwait(false);
            }

            await store.RemoveDueAsync(claimed, cancellationToken).ConfigureAwait(false);
            Log.Dropped(logger, tag.Value);
            return QueuedRefreshOutcome.Dropped;
        }

        var outcome = await RefreshAsync(tag, stored, message, claimed, cancellationToken).ConfigureAwait(false);
        if (outcome == QueuedRefreshOutcome.Refreshed && stored?.Summary is { } planned)
        {
            monitor?.RecordRefreshLag(planned, time.GetUtcNow());
        }
        if (outcome != QueuedRefreshOutcome.Continued)
        {
            await store.RemoveDueAsync(claimed, cancellationToken).ConfigureAwait(false);
        }

        return outcome;
    }

    /// <summary>Tracked with a next read (a refresh, or a settled tag's re-check) that has come.</summary>
    private bool IsDue(TagSummary? summary) =>
        summary is { Tracked: true, NextRefreshAt: { } next } && next <= time.GetUtcNow() + NotDueSlack;

    /// <summary>
    /// A refresh a lookup asked for: its next step always goes on; a first step only if nothing stored is settled or was
    /// read since it was asked for.
    /// </summary>
    private static bool IsStillWanted(RefreshMessage message, TagSummary? summary) =>
        message.FollowUp || summary is null || (!summary.State.IsSettled() && summary.RefreshedAt < message.DueAt);

    /// <param name="stored">The summary read to decide the tag is due: the merge starts from it, so it is read once.</param>
    private async Task<QueuedRefreshOutcome> RefreshAsync(Tag tag, StoredSummary? stored, RefreshMessage message, DueTag claimed, CancellationToken cancellationToken)
    {
        try
        {
            var reason = message.Requested ? RefreshReason.Lookup : RefreshReason.Scheduled;
            var stepStarted = time.GetTimestamp();
            switch (await refresher.StepAsync(tag, stored, message.FollowUp, reason, cancellationToken).ConfigureAwait(false))
            {
                case RefreshProgress.Completed(var result, var pages):
                    Log.Refreshed(logger, tag.Value, result.Snapshot.Summary.State.ToApiName(), pages, result.RecipientsChanged, result.RowsWritten);
                    return QueuedRefreshOutcome.Refreshed;
                case RefreshProgress.Superseded:
                    // Not the tag's failure: the invocation that won carries the pass on under its own claim.
                    return QueuedRefreshOutcome.Dropped;
                case RefreshProgress.Continued(var pages, _) when message.Requested:
                    // The lookup's claim keeps other lookups from queueing it again; the row it holds in the schedule (held
                    // again if the timer took it meanwhile) keeps it counted in flight.
                    var held = await HoldAsync(claimed, pages, cancellationToken).ConfigureAwait(false);
                    await queue.EnqueueRefreshAsync(new RefreshMessage(tag.Value, message.DueAt, FollowUp: true, Requested: true, held.DueAt), PaceAfter(pages, stepStarted), cancellationToken).ConfigureAwait(false);
                    return QueuedRefreshOutcome.Continued;
                case RefreshProgress.Continued(var pages, _):
                    await ContinueAsync(claimed, PaceAfter(pages, stepStarted), cancellationToken).ConfigureAwait(false);
                    return QueuedRefreshOutcome.Continued;
                default:
                    throw new UnreachableException();
            }
        }
        catch (RecipientsExpiredException)
        {
            // Past retention and SMS Partner had no rows under the name (with rows, the refresher starts the tag again):
            // not read again. The claimed schedule row goes, and the sweep only restores recent tags.
            Log.Expired(logger, tag.Value);
            return QueuedRefreshOutcome.Dropped;
        }
        catch (Exception e) when (e is SmsPartnerException or SecretUnavailableException or StoreConflictException)
        {
            // Retried on the tag's own back-off (its next schedule row), not by the queue: the failure is the tag's.
            Log.Failed(logger, tag.Value, e.GetType().Name, e);
            await tracking.RecordFailureAsync(tag, cancellationToken).ConfigureAwait(false);
            return QueuedRefreshOutcome.Failed;
        }
    }

    /// <summary>
    /// A pass a lookup asked for, still open: its row in the schedule a lease ahead again, counting the pages a step reads,
    /// or a new row when it has none (a message queued before rows were held) or the timer took it after its lease.
    /// </summary>
    private async Task<DueTag> HoldAsync(DueTag held, int pagesThisStep, CancellationToken cancellationToken)
    {
        var until = time.GetUtcNow() + options.Value.RefreshLease;
        // At most a message's share: all the timer counts of it, and an expired hold is then not priced as a new pass.
        var pages = Math.Min(options.Value.PagesPerMessage, Math.Max(held.Pages, pagesThisStep));
        return (held.Claimed ? await store.ClaimDueAsync(held with { Pages = pages }, until, cancellationToken).ConfigureAwait(false) : null)
            ?? await store.HoldInFlightAsync(held.Tag, until, pages, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A pass still open: renew the claim (the row a lease ahead again, so the timer does not queue the tag meanwhile)
    /// and queue the next step. A claim lost to another invocation means that one goes on instead.
    /// </summary>
    private async Task ContinueAsync(DueTag claimed, TimeSpan pace, CancellationToken cancellationToken)
    {
        var renewed = await store.ClaimDueAsync(claimed, time.GetUtcNow() + options.Value.RefreshLease, cancellationToken).ConfigureAwait(false);
        if (renewed is not null)
        {
            await queue.EnqueueRefreshAsync(new RefreshMessage(renewed.Tag.Value, renewed.DueAt, FollowUp: true), pace, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// How long the next step of a pass waits: a pass reads at most one page per <see cref="TrackingOptions.IntervalPerPage"/>
    /// (a quarter of 5 calls/s), the pace the schedule gives a big tag between passes, so passes in flight leave the rest
    /// of the upstream budget to other tags and the timer's count of them holds.
    /// </summary>
    private TimeSpan PaceAfter(int pagesRead, long stepStarted)
    {
        var wait = (options.Value.IntervalPerPage * pagesRead) - time.GetElapsedTime(stepStarted);
        return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
    }

    private static partial class Log
    {
        [LoggerMessage(4211, LogLevel.Information, "Refreshed tag {Tag}: {State}, {Pages} pages, {RecipientsChanged} recipients changed, {RowsWritten} rows written")]
        public static partial void Refreshed(ILogger logger, string tag, string state, int pages, int recipientsChanged, int rowsWritten);

        [LoggerMessage(4212, LogLevel.Warning, "Refreshing tag {Tag} failed ({Failure}); it will be retried with back-off")]
        public static partial void Failed(ILogger logger, string tag, string failure, Exception exception);

        [LoggerMessage(4213, LogLevel.Debug, "Tag {Tag} is no longer due; its refresh message is dropped")]
        public static partial void Dropped(ILogger logger, string tag);

        [LoggerMessage(4214, LogLevel.Warning, "A refresh message named no valid tag; dropped")]
        public static partial void NotATag(ILogger logger);

        [LoggerMessage(4215, LogLevel.Information, "Tag {Tag} is past retention; it is not refreshed again")]
        public static partial void Expired(ILogger logger, string tag);
    }
}
