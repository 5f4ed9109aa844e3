using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using TagStatus.Core.Refresh;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Tracking;

/// <summary>What one timer run did, logged as one structured line.</summary>
public sealed record RefreshRunSummary(
    int TagsDue,
    int TagsRefreshed,
    int RecipientsChanged,
    int RowsWritten,
    int UpstreamCalls,
    int Failures,
    int CallbacksDelivered,
    int CallbacksFailed,
    TimeSpan Duration);

/// <summary>
/// The work of <c>RefreshPendingTags</c>: refresh the due pending tags, oldest-due first, a few at a time within a
/// time budget, then deliver the callback outbox. One tag's failure never stops the others; a replayed run finds
/// nothing due and writes nothing.
/// </summary>
public sealed partial class RefreshRunner(
    ITagStore store,
    TagRefresher refresher,
    TrackingService tracking,
    CallbackDispatcher callbacks,
    IOptions<TrackingOptions> options,
    TimeProvider time,
    ILogger<RefreshRunner> logger)
{
    /// <summary>More than one run can refresh in its budget; the rest are picked up next time.</summary>
    private const int MaxTagsPerRun = 2000;

    public async Task<RefreshRunSummary> RunAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var settings = options.Value;
        // The budget runs on the injected clock, so tests can spend it without waiting.
        using var budgetOnly = new CancellationTokenSource(settings.RunBudget, time);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, budgetOnly.Token);

        int refreshed = 0, changed = 0, written = 0, upstreamCalls = 0, failures = 0;
        IReadOnlyList<DueTag> due = [];
        try
        {
            due = await store.GetDueTagsAsync(time.GetUtcNow(), MaxTagsPerRun, budget.Token).ConfigureAwait(false);
            await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = settings.MaxParallelism, CancellationToken = budget.Token }, async (item, ct) =>
            {
                Interlocked.Increment(ref upstreamCalls);
                switch (await RefreshOneAsync(item.Tag, ct).ConfigureAwait(false))
                {
                    case { } result:
                        Interlocked.Increment(ref refreshed);
                        Interlocked.Add(ref changed, result.RecipientsChanged);
                        Interlocked.Add(ref written, result.RowsWritten);
                        break;
                    default:
                        Interlocked.Increment(ref failures);
                        break;
                }
            }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Log.BudgetSpent(logger, settings.RunBudget, due.Count - refreshed - failures);
        }
        catch (StoreUnavailableException e)
        {
            Log.StoreUnavailable(logger, e);
            failures++;
        }

        var delivery = await DeliverCallbacksAsync(cancellationToken).ConfigureAwait(false);
        var summary = new RefreshRunSummary(due.Count, refreshed, changed, written, upstreamCalls, failures, delivery.Delivered, delivery.Failed + delivery.Retried, Stopwatch.GetElapsedTime(started));
        Log.RunSummary(logger, summary.TagsDue, summary.TagsRefreshed, summary.RecipientsChanged, summary.RowsWritten, summary.UpstreamCalls,
            summary.Failures, summary.CallbacksDelivered, summary.CallbacksFailed, summary.Duration.TotalMilliseconds);
        return summary;
    }

    /// <returns>The refresh, or null when it failed (recorded for a later retry).</returns>
    private async Task<RefreshResult?> RefreshOneAsync(Tag tag, CancellationToken cancellationToken)
    {
        try
        {
            return await refresher.RefreshAsync(tag, RefreshReason.Scheduled, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.TagFailed(logger, tag.Value, e.GetType().Name, e);
            try
            {
                await tracking.RecordFailureAsync(tag, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception recordFailure) when (recordFailure is StoreUnavailableException or StoreConflictException)
            {
                // The tag stays due and is simply tried again next run.
                Log.TagFailed(logger, tag.Value, recordFailure.GetType().Name, recordFailure);
            }

            return null;
        }
    }

    private async Task<DeliveryReport> DeliverCallbacksAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await callbacks.DeliverDueAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The signing key or storage is out of reach. Undelivered rows stay due: the next run tries again.
            Log.OutboxFailed(logger, e);
            return new DeliveryReport(0, 0, 0, 1);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4201, LogLevel.Information,
            "Refresh run: {TagsDue} due, {TagsRefreshed} refreshed, {RecipientsChanged} recipients changed, {RowsWritten} rows written, " +
            "{UpstreamCalls} upstream calls, {Failures} failures, {CallbacksDelivered} callbacks delivered, {CallbacksFailed} callbacks not yet delivered, {DurationMs} ms")]
        public static partial void RunSummary(ILogger logger, int tagsDue, int tagsRefreshed, int recipientsChanged, int rowsWritten, int upstreamCalls,
            int failures, int callbacksDelivered, int callbacksFailed, double durationMs);

        [LoggerMessage(4202, LogLevel.Warning, "Refreshing tag {Tag} failed ({Failure}); it will be retried with back-off")]
        public static partial void TagFailed(ILogger logger, string tag, string failure, Exception exception);

        [LoggerMessage(4203, LogLevel.Warning, "The run's budget of {Budget} was spent; about {Left} due tags wait for the next run")]
        public static partial void BudgetSpent(ILogger logger, TimeSpan budget, int left);

        [LoggerMessage(4204, LogLevel.Error, "Storage could not be read to find the due tags")]
        public static partial void StoreUnavailable(ILogger logger, Exception exception);

        [LoggerMessage(4205, LogLevel.Error, "The callback outbox could not be delivered this run")]
        public static partial void OutboxFailed(ILogger logger, Exception exception);
    }
}
