using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using TagStatus.Core.Queues;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Tracking;

/// <summary>
/// The repair pass, at most once per <see cref="TrackingOptions.SweepEvery"/> across all instances: a tracked tag whose
/// next read is long overdue gets its schedule row back, and an outbox row long overdue gets its queue message back. It reads
/// only the tags first seen within the tracking window (plus a day), newest first in the listing, so its cost follows
/// recent work, never history. (A reused tag reopened after that keeps its first-seen key, so the sweep does not see it:
/// its schedule rows are written the usual way, and only their loss would go unrepaired.)
/// </summary>
public sealed partial class RefreshSweep(
    ITagStore store,
    IPassStore passes,
    ICallbackStore callbacks,
    IWorkQueue queue,
    IOptions<TrackingOptions> options,
    TimeProvider time,
    ILogger<RefreshSweep> logger)
{
    /// <returns>How many rows and messages it restored; 0 when no sweep was due.</returns>
    public async Task<int> RunIfDueAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        if (!await store.TryClaimSweepAsync(now, settings.SweepEvery, cancellationToken).ConfigureAwait(false))
        {
            return 0;
        }

        // Anything that should have happened by now and has not: a lease and a retry later than planned.
        var overdue = now - settings.RefreshLease - settings.SweepGrace;
        int schedules = 0, deliveries = 0;
        // Every tag that can still have a next read: its window, the margin, the re-checks after it settled, and a day.
        var recent = await store.GetTrackedSinceAsync(now - settings.Window - settings.Margin - settings.RecheckFor - TimeSpan.FromDays(1), cancellationToken).ConfigureAwait(false);
        foreach (var (summary, needsReindex) in recent)
        {
            if (needsReindex)
            {
                // Tracked before schedule rows existed: its listing row and its schedule row, both from the summary.
                await store.ReindexAsync(summary, cancellationToken).ConfigureAwait(false);
                Log.Reindexed(logger, summary.Tag.Value);
                schedules++;
            }
            else if (summary is { Tracked: true, NextRefreshAt: { } dueAt } && dueAt < overdue
                && !await passes.IsOpenAsync(summary.Tag, cancellationToken).ConfigureAwait(false))
            {
                // (A big tag mid-pass keeps its old next read until the pass ends: its steps run under their own claim.)
                await store.EnsureDueAsync(summary, cancellationToken).ConfigureAwait(false);
                Log.ScheduleRestored(logger, summary.Tag.Value, dueAt);
                schedules++;
            }

            foreach (var delivery in await callbacks.GetOverdueDeliveriesAsync(summary.Tag, now - settings.SweepGrace, cancellationToken).ConfigureAwait(false))
            {
                await queue.EnqueueDeliveryAsync(new DeliveryMessage(delivery.Tag, delivery.EventId, delivery.SubscriptionId), TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
                Log.DeliveryRequeued(logger, delivery.EventId, delivery.Tag);
                deliveries++;
            }
        }

        Log.Swept(logger, recent.Count, schedules, deliveries);
        return schedules + deliveries;
    }

    private static partial class Log
    {
        [LoggerMessage(4221, LogLevel.Information, "Sweep: {Tags} recent tags read, {Schedules} schedule rows and {Deliveries} callback messages restored")]
        public static partial void Swept(ILogger logger, int tags, int schedules, int deliveries);

        [LoggerMessage(4222, LogLevel.Warning, "Tag {Tag} was due at {DueAt} and never refreshed: its schedule row is restored")]
        public static partial void ScheduleRestored(ILogger logger, string tag, DateTimeOffset dueAt);

        [LoggerMessage(4224, LogLevel.Information, "Tag {Tag} was tracked before schedule rows existed: its listing and schedule rows are written")]
        public static partial void Reindexed(ILogger logger, string tag);

        [LoggerMessage(4223, LogLevel.Warning, "Callback {EventId} of tag {Tag} lost its queue message: queued again")]
        public static partial void DeliveryRequeued(ILogger logger, string eventId, string tag);
    }
}
