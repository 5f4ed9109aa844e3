using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TagStatus.Core.Domain;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;

namespace TagStatus.Core.Refresh;

/// <summary>What one step of a scheduled refresh did.</summary>
public abstract record RefreshProgress
{
    /// <summary>The pass ended and was merged: the tag is stored as read.</summary>
    public sealed record Completed(RefreshResult Result, int PagesRead) : RefreshProgress;

    /// <summary>The pass is still open after this step's pages: it goes on in a follow-up message.</summary>
    public sealed record Continued(int PagesRead, int PagesSoFar) : RefreshProgress;

    /// <summary>Another invocation moved the same pass first: it carries the pass on, this one stops.</summary>
    public sealed record Superseded : RefreshProgress;
}

/// <summary>
/// A scheduled refresh in steps of at most <see cref="TrackingOptions.PagesPerMessage"/> pages, so a tag of any size
/// progresses without holding one invocation (or the upstream budget) for long: a pass that does not end within a step
/// is stored (<see cref="IPassStore"/>) and continued from its cursor by the next step. A step holds only its own pages:
/// it goes on from the cursor's counters and last page, and the pages before are loaded once, when the pass may end (the
/// rows read could reach the announced total) or has ended. The rows are merged only once the pass has ended, so a tag can
/// complete only after a full pass; pages read before a failure are kept.
/// </summary>
public sealed partial class StepwiseRefresher(
    ISmsPartnerClient client,
    IPassStore passes,
    TagRefresher refresher,
    IOptions<TrackingOptions> options,
    TimeProvider time,
    ILogger<StepwiseRefresher> logger)
{
    /// <param name="summary">The tag's summary as just read (null when it has none): the merge starts from it.</param>
    /// <param name="followUp">The step of a pass a previous step left open (its message was queued by that step).</param>
    /// <param name="reason">Why the tag is read: a lookup's queued read may start tracking it (see <see cref="RefreshReason.Lookup"/>).</param>
    public async Task<RefreshProgress> StepAsync(Tag tag, StoredSummary? summary, bool followUp, RefreshReason reason, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        // A first step of a tag read before whose size fits one step looks for no stored pass (only if it does not fit
        // after all). A tag never read yet looks: its first pass may have died mid-way and is resumed.
        var lookedForPass = followUp || summary is not { Summary.Counts.Total: > 0 } || EstimatedPages(summary.Summary) > settings.PagesPerMessage;
        var cursor = lookedForPass ? await CurrentCursorAsync(tag, now, cancellationToken).ConfigureAwait(false) : null;

        // A step holds a few thousand rows at most: past that its pages, and the stored ones the last step loads, are kept
        // in scratch files (local disk) until they are stored or merged, and deleted with the step.
        using var spills = new ScratchSpills();
        var pass = cursor?.Resume(spills.Create) ?? UpstreamPass.After(0, 0, null, [], spills.Create);
        var pagesBefore = pass.PagesRead;
        try
        {
            await client.ContinuePassAsync(tag, pass, settings.PagesPerMessage, cancellationToken).ConfigureAwait(false);
            if (!pass.CountsAllPages && (pass.End != PassEnd.Open || pass.NeedsEarlierPages))
            {
                pass = await WithEarlierPagesAsync(tag, cursor!, pass, spills.Create(), settings.PagesPerMessage - (pass.PagesRead - pagesBefore), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (SmsPartnerException) when (pass.PagesRead > pagesBefore)
        {
            // Keep what this step read before the failure: the retry goes on from there.
            cursor ??= lookedForPass ? null : await CurrentCursorAsync(tag, now, cancellationToken).ConfigureAwait(false);
            await SaveProgressAsync(tag, pass, pagesBefore, cursor, now, cancellationToken).ConfigureAwait(false);
            throw;
        }

        var pagesRead = pass.PagesRead - pagesBefore;
        if (pass.End == PassEnd.Open)
        {
            // A tag that did not fit after all takes over any pass a dead step left (from page 1: this step read it again).
            cursor ??= lookedForPass ? null : await CurrentCursorAsync(tag, now, cancellationToken).ConfigureAwait(false);
            if (!await SaveProgressAsync(tag, pass, pagesBefore, cursor, now, cancellationToken).ConfigureAwait(false))
            {
                return new RefreshProgress.Superseded();
            }

            Log.Continued(logger, tag.Value, pagesRead, pass.PagesRead, pass.AnnouncedTotal);
            return new RefreshProgress.Continued(pagesRead, pass.PagesRead);
        }

        // Forgotten before the merge: a crash after it would otherwise leave an ended pass to be read on as if open.
        // A crash in between costs one read from page 1, never a stale merge.
        if (cursor is not null)
        {
            await passes.DeleteAsync(tag, cancellationToken).ConfigureAwait(false);
        }

        var result = await refresher.SaveAsync(tag, pass, reason, summary, cancellationToken).ConfigureAwait(false);
        return new RefreshProgress.Completed(result, pass.PagesRead);
    }

    /// <summary>The tag's open pass, unless it is too old to finish as one picture of the tag (then it is forgotten).</summary>
    private async Task<PassCursor?> CurrentCursorAsync(Tag tag, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var cursor = await passes.GetCursorAsync(tag, cancellationToken).ConfigureAwait(false);
        if (cursor is not null && options.Value.PassOutlived(cursor.StartedAt, cursor.Pages, now))
        {
            Log.PassRestarted(logger, tag.Value, cursor.Pages, cursor.StartedAt);
            await passes.DeleteAsync(tag, cancellationToken).ConfigureAwait(false);
            return null;
        }

        return cursor;
    }

    /// <summary>
    /// The whole pass: the stored pages (counted and spilled, not held), then this step's. A pass that ended is judged on
    /// all of them; one that may have reached its total is counted exactly and read on, within what is left of the step.
    /// </summary>
    private async Task<UpstreamPass> WithEarlierPagesAsync(Tag tag, PassCursor cursor, UpstreamPass step, IPassSpill spill, int pagesLeft, CancellationToken cancellationToken)
    {
        var whole = await passes.LoadPagesAsync(tag, cursor, spill, cancellationToken).ConfigureAwait(false);
        foreach (var (_, rows) in step.PagesAfter(step.PagesBefore))
        {
            whole.Add(rows, step.AnnouncedTotal);
        }

        if (step.End != PassEnd.Open)
        {
            whole.Finish(step.End);
        }
        else
        {
            await client.ContinuePassAsync(tag, whole, pagesLeft, cancellationToken).ConfigureAwait(false);
        }

        return whole;
    }

    /// <summary>SMS Partner's pages the tag's last count fills (an estimate: its page size is not documented).</summary>
    private static int EstimatedPages(TagSummary summary) => TableTagStore.EstimatePages(summary);

    /// <returns>False when another invocation moved the pass's cursor first (it carries the pass on).</returns>
    /// <param name="pagesBefore">Pages stored before this step: 0 for a new pass, or one that takes over a stale pass's cursor.</param>
    private async Task<bool> SaveProgressAsync(Tag tag, UpstreamPass pass, int pagesBefore, PassCursor? cursor, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            var startedAt = pagesBefore > 0 && cursor is not null ? cursor.StartedAt : now;
            await passes.SaveAsync(tag, pass, pagesBefore, startedAt, cursor?.ETag, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (StoreConflictException)
        {
            Log.Superseded(logger, tag.Value);
            return false;
        }
    }

    /// <summary>The scratch files a step's passes spill to, made only when needed and deleted with the step.</summary>
    private sealed class ScratchSpills : IDisposable
    {
        private readonly List<TempFilePassSpill> _spills = [];

        public IPassSpill Create()
        {
            var spill = new TempFilePassSpill();
            _spills.Add(spill);
            return spill;
        }

        public void Dispose() => _spills.ForEach(spill => spill.Dispose());
    }

    private static partial class Log
    {
        [LoggerMessage(4031, LogLevel.Information, "Tag {Tag}: {PagesRead} more pages read, {PagesSoFar} in all of {Announced} rows announced; the pass goes on in a follow-up message")]
        public static partial void Continued(ILogger logger, string tag, int pagesRead, int pagesSoFar, int? announced);

        [LoggerMessage(4033, LogLevel.Information, "Tag {Tag}: another invocation moved this pass first and carries it on; this step stops")]
        public static partial void Superseded(ILogger logger, string tag);

        [LoggerMessage(4032, LogLevel.Warning, "Tag {Tag}: a pass of {Pages} pages begun at {StartedAt} is too old to finish; starting again")]
        public static partial void PassRestarted(ILogger logger, string tag, int pages, DateTimeOffset startedAt);
    }
}
