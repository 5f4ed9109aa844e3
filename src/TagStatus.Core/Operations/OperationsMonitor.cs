using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TagStatus.Core.Domain;
using TagStatus.Core.Queues;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;

namespace TagStatus.Core.Operations;

/// <summary>What an operator wants at a glance: the refresh backlog and the work queues. The health route's body.</summary>
/// <param name="DueTags">Refreshes due now (counted up to <see cref="TrackingOptions.MaxClaimsPerRun"/>).</param>
/// <param name="DueTagsCapped">True when there may be more due than <paramref name="DueTags"/>.</param>
/// <param name="OldestLateness">How late the oldest due refresh is; zero when none is due.</param>
public sealed record OperationsSnapshot(
    DateTimeOffset ObservedAt,
    int DueTags,
    bool DueTagsCapped,
    TimeSpan OldestLateness,
    IReadOnlyList<QueueLength> Queues);

/// <summary>
/// Reads and records the numbers that are states rather than events (backlog, queue lengths), and the refresh lag by tag
/// age band. Every read is bounded by the work due now (the schedule's due rows, four queue properties), never by history.
/// </summary>
public sealed partial class OperationsMonitor(
    ITagStore store,
    IQueueLengths queues,
    TagStatusMetrics metrics,
    IOptions<TrackingOptions> options,
    TimeProvider time,
    ILogger<OperationsMonitor> logger)
{
    public void RecordBacklog(IReadOnlyList<DueTag> due, DateTimeOffset now) => metrics.RecordBacklog(due, now);

    /// <summary>A refresh just done, against the plan the tag's summary held before it.</summary>
    public void RecordRefreshLag(TagSummary before, DateTimeOffset doneAt)
    {
        if (before.NextRefreshAt is { } planned)
        {
            metrics.RecordRefreshLag(doneAt - planned, AgeBand(doneAt - before.WindowStart, options.Value.EffectiveBackoff));
        }
    }

    /// <summary>Queue lengths for the metrics; a failed read is logged and skipped, the timer run goes on.</summary>
    public async Task RecordQueueLengthsAsync(CancellationToken cancellationToken)
    {
        try
        {
            foreach (var length in await queues.ReadLengthsAsync(cancellationToken).ConfigureAwait(false))
            {
                metrics.RecordQueueLength(length.Queue, length.Messages);
            }
        }
        catch (StoreUnavailableException e)
        {
            Log.QueueLengthsUnavailable(logger, e);
        }
    }

    /// <summary>The backlog and the queues now, recorded as metrics too.</summary>
    /// <exception cref="StoreUnavailableException">Storage could not be read.</exception>
    public async Task<OperationsSnapshot> ObserveAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var limit = options.Value.MaxClaimsPerRun;
        var due = await store.GetDueTagsAsync(now, limit, cancellationToken).ConfigureAwait(false);
        var lengths = await queues.ReadLengthsAsync(cancellationToken).ConfigureAwait(false);
        metrics.RecordBacklog(due, now);
        foreach (var length in lengths)
        {
            metrics.RecordQueueLength(length.Queue, length.Messages);
        }

        return new OperationsSnapshot(now, due.Count, due.Count >= limit, TagStatusMetrics.OldestLateness(due, now), lengths);
    }

    /// <summary>
    /// The back-off step a tag of this age is in, named by its upper bound ("under 10m", "under 1h", ...): the bands whose
    /// refresh intervals differ, so a lag is read against the interval it should be small next to.
    /// </summary>
    public static string AgeBand(TimeSpan age, IReadOnlyList<RefreshStep> backoff)
    {
        foreach (var step in backoff)
        {
            if (age < step.UpTo)
            {
                return step.UpTo == TimeSpan.MaxValue ? "older" : "under " + Short(step.UpTo);
            }
        }

        return "older";
    }

    private static string Short(TimeSpan span) =>
        span.TotalDays >= 1 && span.TotalDays % 1 == 0 ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalDays:0}d")
        : span.TotalHours >= 1 && span.TotalHours % 1 == 0 ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalHours:0}h")
        : string.Create(CultureInfo.InvariantCulture, $"{span.TotalMinutes:0}m");

    private static partial class Log
    {
        [LoggerMessage(6001, LogLevel.Warning, "The work queues' lengths could not be read; the queue metric skips this run")]
        public static partial void QueueLengthsUnavailable(ILogger logger, Exception exception);
    }
}
