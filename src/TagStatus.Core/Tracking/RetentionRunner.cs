using Microsoft.Extensions.Logging;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Tracking;

/// <summary>
/// The daily retention run: once per <see cref="Every"/> across instances (the sweep's claim pattern), it deletes the
/// month tables of recipients past <see cref="RetentionOptions.Months"/> (one listing of tables by name range and a delete
/// per expired month), then the tags past <see cref="RetentionOptions.SummaryMonths"/> (a key range of the seen index and
/// a few partition-scoped requests per expired tag). However long the app has run, its cost follows what expires.
/// Idempotent: a replayed run finds nothing left to remove.
/// </summary>
/// <param name="deadLetters">Prunes dead letters past <c>Callbacks:DeadLetterDays</c> (a key range) in the same run; null where callbacks are not wired.</param>
public sealed partial class RetentionRunner(IRetentionStore store, TimeProvider time, ILogger<RetentionRunner> logger, DeadLetterService? deadLetters = null)
{
    /// <summary>Daily at 03:17 UTC (six-field NCRONTAB), in both hosts: daily is all retention needs.</summary>
    public const string Schedule = "0 17 3 * * *";

    /// <summary>Less than a day, so a daily timer a little early still runs, yet one run per firing across instances.</summary>
    public static readonly TimeSpan Every = TimeSpan.FromHours(12);

    /// <returns>The tables deleted; empty when another instance ran or nothing had expired.</returns>
    public async Task<IReadOnlyList<string>> RunIfDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!await store.TryClaimRetentionAsync(now, Every, cancellationToken).ConfigureAwait(false))
        {
            return [];
        }

        var dropped = await store.DropExpiredRecipientsAsync(now, cancellationToken).ConfigureAwait(false);
        var summaries = await store.RemoveExpiredSummariesAsync(now, cancellationToken).ConfigureAwait(false);
        Log.Ran(logger, dropped.Count, string.Join(',', dropped), summaries.TagsRemoved, summaries.TagsBackfilled, summaries.BackfillDone);
        LastSummaries = summaries;

        if (deadLetters is not null)
        {
            Log.DeadLettersPruned(logger, await deadLetters.PruneAsync(now, cancellationToken).ConfigureAwait(false));
        }

        return dropped;
    }

    /// <summary>What the last run of this instance did to summaries (null before one ran here).</summary>
    public SummaryRetentionResult? LastSummaries { get; private set; }

    private static partial class Log
    {
        [LoggerMessage(4401, LogLevel.Information, "Retention run: {Count} recipient tables past retention deleted ({Tables}); {TagsRemoved} tags past summary retention removed; seen rows backfilled {TagsBackfilled} (backfill done: {BackfillDone})")]
        public static partial void Ran(ILogger logger, int count, string tables, int tagsRemoved, int tagsBackfilled, bool backfillDone);

        [LoggerMessage(4402, LogLevel.Information, "Retention run: {Count} dead letters past Callbacks:DeadLetterDays deleted")]
        public static partial void DeadLettersPruned(ILogger logger, int count);
    }
}
