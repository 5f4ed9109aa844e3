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
public sealed record RefreshRunSummary(int TagsDue, int TagsQueued, int PagesQueued, int Failures, int Repaired, TimeSpan Duration)
{
    /// <summary>Pages the claims still running will read (queued refreshes, passes going on): taken from this run's share.</summary>
    public int PagesInFlight { get; init; }
}

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
        int queued = 0, pages = 0, inFlight = 0, failures = 0, repaired = 0;
        IReadOnlyList<DueTag> due = [];
        try
        {
            var now = time.GetUtcNow();
            due = await store.GetDueTagsAsync(now, settings.MaxClaimsPerRun, cancellationToken).ConfigureAwait(false);
            monitor?.RecordBacklog(due, now);
            inFlight = await PagesInFlightAsync(now, cancellationToken).ConfigureAwait(false);
            var share = new RunShare(settings, inFlight, now);
            foreach (var row in due)
            {
                if (!share.Admits(row))
                {
                    if (share.StartsAPass(row))
                    {
                        continue; // a new big pass waits for room; tags that fit one message keep their turn
                    }

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
                pages += share.CostOf(row);
                share.Take(row);
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

        var summary = new RefreshRunSummary(due.Count, queued, pages, failures, repaired, Stopwatch.GetElapsedTime(started)) { PagesInFlight = inFlight };
        Log.RunSummary(logger, summary.TagsDue, summary.TagsQueued, summary.PagesQueued, summary.PagesInFlight, due.Count - queued, summary.Repaired, summary.Failures, summary.Duration.TotalMilliseconds);
        return summary;
    }

    /// <summary>
    /// The pages of the claims still running (queued, or a big tag's pass going on in follow-ups): each will read up to
    /// one message's share in the coming interval, so this run's share is what they leave.
    /// </summary>
    private async Task<int> PagesInFlightAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var claims = await store.GetClaimsInFlightAsync(now, now + settings.RefreshLease, cancellationToken).ConfigureAwait(false);
        return claims.Sum(claim => Math.Min(claim.Pages, settings.PagesPerMessage));
    }

    /// <summary>
    /// A run's share of the upstream budget: <see cref="TrackingOptions.PagesPerRun"/> less the pages in flight. A new
    /// pass of a big tag (more pages than one message) starts only within that, so passes in flight never outgrow the
    /// budget; tags that fit one message may always take half a run's share, so passes in flight never starve them; and
    /// the oldest due tag goes whatever its size when nothing is in flight, or once it has waited a lease (a backlog of
    /// small tags could otherwise keep a big pass from ever finding room), so no tag waits for ever.
    /// </summary>
    private sealed class RunShare(TrackingOptions settings, int pagesInFlight, DateTimeOffset now)
    {
        private int _pagesQueued;
        private int _tagsQueued;

        /// <summary>A message reads at most PagesPerMessage pages; a bigger tag's next steps are its own follow-ups.</summary>
        public int CostOf(DueTag row) => Math.Min(row.Pages, settings.PagesPerMessage);

        public bool StartsAPass(DueTag row) => row.Pages > settings.PagesPerMessage;

        public bool Admits(DueTag row)
        {
            var cost = CostOf(row);
            if (_tagsQueued == 0 && (pagesInFlight == 0 || now - row.DueAt > settings.RefreshLease))
            {
                return true;
            }

            return StartsAPass(row)
                ? pagesInFlight + _pagesQueued + cost <= settings.PagesPerRun
                : _pagesQueued + cost <= Math.Max(settings.PagesPerRun - pagesInFlight, settings.PagesPerRun / 2);
        }

        public void Take(DueTag row)
        {
            _pagesQueued += CostOf(row);
            _tagsQueued++;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4201, LogLevel.Information,
            "Refresh run: {TagsDue} due, {TagsQueued} queued ({PagesQueued} pages, {PagesInFlight} in flight), {Left} left for the next run, {Repaired} repaired, {Failures} failures, {DurationMs} ms")]
        public static partial void RunSummary(ILogger logger, int tagsDue, int tagsQueued, int pagesQueued, int pagesInFlight, int left, int repaired, int failures, double durationMs);

        [LoggerMessage(4204, LogLevel.Error, "Storage or the refresh queue could not be reached; due tags stay due for the next run")]
        public static partial void StoreUnavailable(ILogger logger, Exception exception);
    }
}
