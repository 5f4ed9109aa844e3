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
/// is stored (<see cref="IPassStore"/>) and continued from its cursor by the next step. The rows are merged only once
/// the pass has ended, so a tag can complete only after a full pass; pages read before a failure are kept.
/// </summary>
public sealed partial class StepwiseRefresher(
    ISmsPartnerClient client,
    IPassStore passes,
    TagRefresher refresher,
    IOptions<TrackingOptions> options,
    TimeProvider time,
    ILogger<StepwiseRefresher> logger)
{
    /// <param name="reason">Why the tag is read: a lookup's queued read may start tracking it (see <see cref="RefreshReason.Lookup"/>).</param>
    public async Task<RefreshProgress> StepAsync(Tag tag, RefreshReason reason, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        var stored = await passes.LoadAsync(tag, cancellationToken).ConfigureAwait(false);
        if (stored is not null && now - stored.StartedAt > settings.MaxPassAge)
        {
            // Too old to finish as one picture of the tag: start again.
            Log.PassRestarted(logger, tag.Value, stored.Pass.PagesRead, stored.StartedAt);
            await passes.DeleteAsync(tag, cancellationToken).ConfigureAwait(false);
            stored = null;
        }

        var pass = stored?.Pass ?? new UpstreamPass();
        var pagesBefore = pass.PagesRead;
        try
        {
            await client.ContinuePassAsync(tag, pass, settings.PagesPerMessage, cancellationToken).ConfigureAwait(false);
        }
        catch (SmsPartnerException) when (pass.PagesRead > pagesBefore)
        {
            // Keep what this step read before the failure: the retry goes on from there.
            await SaveProgressAsync(tag, pass, pagesBefore, stored, now, cancellationToken).ConfigureAwait(false);
            throw;
        }

        var pagesRead = pass.PagesRead - pagesBefore;
        if (pass.End == PassEnd.Open)
        {
            if (!await SaveProgressAsync(tag, pass, pagesBefore, stored, now, cancellationToken).ConfigureAwait(false))
            {
                return new RefreshProgress.Superseded();
            }

            Log.Continued(logger, tag.Value, pagesRead, pass.PagesRead, pass.AnnouncedTotal);
            return new RefreshProgress.Continued(pagesRead, pass.PagesRead);
        }

        // Forgotten before the merge: a crash after it would otherwise leave an ended pass to be read on as if open.
        // A crash in between costs one read from page 1, never a stale merge.
        if (stored is not null)
        {
            await passes.DeleteAsync(tag, cancellationToken).ConfigureAwait(false);
        }

        var result = await refresher.SaveAsync(tag, pass, reason, cancellationToken).ConfigureAwait(false);
        return new RefreshProgress.Completed(result, pass.PagesRead);
    }

    /// <returns>False when another invocation moved the pass's cursor first (it carries the pass on).</returns>
    private async Task<bool> SaveProgressAsync(Tag tag, UpstreamPass pass, int pagesBefore, StoredPass? stored, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            await passes.SaveAsync(tag, pass, pagesBefore, stored?.StartedAt ?? now, stored?.ETag, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (StoreConflictException)
        {
            Log.Superseded(logger, tag.Value);
            return false;
        }
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
