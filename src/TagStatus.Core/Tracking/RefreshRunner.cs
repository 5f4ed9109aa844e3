using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TagStatus.Core.Operations;
using TagStatus.Core.Queues;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Tracking;

/// <summary>What one timer run did, logged as one structured line.</summary>
/// <param name="TagsDue">Schedule rows found due (at most <see cref="TrackingOptions.MaxClaimsPerRun"/>).</param>
/// <param name="TagsQueued">Rows claimed and put on the refresh queue.</param>
/// <param name="PagesQueued">The queued tags' estimated upstream pages, within <see cref="TrackingOptions.PagesPerRun"/>.</param>
/// <param name="Repaired">Schedule rows and callback messages the sweep restored (0 on runs without a sweep).</param>
public sealed record RefreshRunSummary(int TagsDue, int TagsQueued, int PagesQueued, int Failures, int Repaired, TimeSpan Duration);

/// <summary>
/// The work of <c>RefreshPendingTags</c>: it refreshes nothing itself. It claims the due schedule rows, oldest first, up
/// to the pages the upstream budget allows per run, and puts one message per tag on the refresh queue, where the
/// queue-triggered function refreshes each tag on its own (Flex Consumption scales that out; a slow or failing tag
/// delays only itself). A claim moves the row ahead by a lease, so a refresh that never finishes comes due again, and
/// a replayed run finds the claimed rows no longer due. Once an hour it also sweeps for lost rows and messages.
/// </summary>
public sealed partial class RefreshRunner(
    ITagStore store,
    IWorkQueue queue,
    RefreshSweep sweep,
    IOptions<TrackingOptions> options,
    TimeProvider time,
    ILogger<RefreshRunner> logger,
    OperationsMonitor? monitor = null)
{
    public async Task<RefreshRunSummary> RunAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var settings = options.Value;
        int queued = 0, pages = 0, failures = 0, repaired = 0;
        IReadOnlyList<DueTag> due = [];
        try
        {
            var now = time.GetUtcNow();
            due = await store.GetDueTagsAsync(now, settings.MaxClaimsPerRun, cancellationToken).ConfigureAwait(false);
            monitor?.RecordBacklog(due, now);
            foreach (var row in due)
            {
                // Oldest first, within the run's share of the upstream budget; a tag bigger than the share still goes
                // alone, so no tag waits for ever.
                // A message reads at most PagesPerMessage pages; a bigger tag's next steps are its own follow-ups.
                var cost = Math.Min(row.Pages, settings.PagesPerMessage);
                if (queued > 0 && pages + cost > settings.PagesPerRun)
                {
                    break;
                }

                var claimed = await store.ClaimDueAsync(row, now + settings.RefreshLease, cancellationToken).ConfigureAwait(false);
                if (claimed is null)
                {
                    continue; // another run took it
                }

                // Claimed but not queued (a crash here) is safe: the row comes due again when the lease ends.
                await queue.EnqueueRefreshAsync(new RefreshMessage(claimed.Tag.Value, claimed.DueAt), cancellationToken).ConfigureAwait(false);
                queued++;
                pages += cost;
            }

            repaired = await sweep.RunIfDueAsync(cancellationToken).ConfigureAwait(false);
            if (monitor is not null)
            {
                await monitor.RecordQueueLengthsAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (StoreUnavailableException e)
        {
            Log.StoreUnavailable(logger, e);
            failures++;
        }

        var summary = new RefreshRunSummary(due.Count, queued, pages, failures, repaired, Stopwatch.GetElapsedTime(started));
        Log.RunSummary(logger, summary.TagsDue, summary.TagsQueued, summary.PagesQueued, due.Count - queued, summary.Repaired, summary.Failures, summary.Duration.TotalMilliseconds);
        return summary;
    }

    private static partial class Log
    {
        [LoggerMessage(4201, LogLevel.Information,
            "Refresh run: {TagsDue} due, {TagsQueued} queued ({PagesQueued} pages), {Left} left for the next run, {Repaired} repaired, {Failures} failures, {DurationMs} ms")]
        public static partial void RunSummary(ILogger logger, int tagsDue, int tagsQueued, int pagesQueued, int left, int repaired, int failures, double durationMs);

        [LoggerMessage(4204, LogLevel.Error, "Storage or the refresh queue could not be reached; due tags stay due for the next run")]
        public static partial void StoreUnavailable(ILogger logger, Exception exception);
    }
}
