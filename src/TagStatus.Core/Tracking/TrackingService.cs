using Microsoft.Extensions.Logging;
using TagStatus.Core.Domain;
using TagStatus.Core.Lookup;
using TagStatus.Core.Refresh;
using TagStatus.Core.Secrets;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Tracking;

/// <summary>Starting and stopping the tracking of tags, and listing the tracked ones.</summary>
public sealed partial class TrackingService(
    ITagStore store,
    InlineRead inlineRead,
    TagStateRules rules,
    ITagChangeObserver changeObserver,
    TimeProvider time,
    ILogger<TrackingService> logger,
    IRetentionStore? retention = null)
{
    private const int MaxConflictRetries = 4;

    /// <summary>Why a registered tag whose first read went to the queue shows no recipients yet (it answers <c>partial</c>).</summary>
    internal const string FirstReadQueued = "The first read of SMS Partner's pages goes on in the refresh queue: no recipient is counted yet.";

    /// <summary>
    /// Tracks a tag; harmless when it already is. A campaign sent a moment ago may be unknown to SMS Partner still,
    /// so a failed first read still registers the tag, to be refreshed by the timer.
    /// </summary>
    public async Task<TagSummary> RegisterAsync(Tag tag, CancellationToken cancellationToken)
    {
        var stored = await store.GetSummaryAsync(tag, cancellationToken).ConfigureAwait(false);
        UpstreamPass? open = null;
        // A name whose recipients expired is read again too: with rows upstream it starts again as a new tag (before any
        // subscription row of the caller's is written, so the restart does not remove it).
        if (stored is null or { RecipientsExpired: true })
        {
            try
            {
                // At most the pages a caller waits for; a bigger tag is registered now and read on by the refresh queue.
                var (read, pending) = await inlineRead.ReadAsync(tag, RefreshReason.Register, cancellationToken).ConfigureAwait(false);
                if (read is not null)
                {
                    return read.Snapshot.Summary;
                }

                open = pending;
                if (stored is { RecipientsExpired: true } && retention is not null)
                {
                    // Rows upstream under the name: the old tag goes now, as a merge would, so this registration (and a
                    // subscription made after it) belongs to the new one and the queued read merges into a new tag.
                    await retention.RestartExpiredTagAsync(stored, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is SmsPartnerException or SecretUnavailableException)
            {
                Log.FirstReadFailed(logger, tag.Value, e.GetType().Name);
            }
            catch (RecipientsExpiredException)
            {
                // Nothing upstream under the name: the expired tag stays as it is, tracked below.
            }
        }

        // A read handed to the queue holds the tag's row in the schedule until a lease from now: the summary comes due
        // then (not at once: a second read of the same pass), and its hold, written after it, claims that row.
        var now = time.GetUtcNow();
        DateTimeOffset? queuedUntil = open is null ? null : inlineRead.HeldUntil(now);
        var alreadyTracked = false;
        var registered = await UpdateAsync(tag, summary =>
        {
            alreadyTracked = summary.Tracked;
            return summary.Tracked ? null : summary with
            {
                Tracked = true,
                NextRefreshAt = summary.State.IsSettled() ? rules.NextReadAt(summary.State, summary.WindowStart, summary.CompletedAt, now) : queuedUntil ?? now,
                PartialReason = open is not null && summary.Counts.Total == 0 ? FirstReadQueued : summary.PartialReason,
            };
        }, createIfMissing: true, cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("Registration produced no summary.");

        if (open is not null)
        {
            await inlineRead.HandOverAsync(tag, open, now, cancellationToken).ConfigureAwait(false);
        }

        if (alreadyTracked)
        {
            // Registering again is harmless, and repairs a tracking index row that a failed write left out.
            await store.ReindexAsync(registered, cancellationToken).ConfigureAwait(false);
        }

        return registered;
    }

    /// <summary>Stops tracking and keeps the data. False when the tag was not tracked.</summary>
    public async Task<bool> UntrackAsync(Tag tag, CancellationToken cancellationToken)
    {
        var wasTracked = false;
        await UpdateAsync(tag, summary =>
        {
            wasTracked = summary.Tracked;
            return summary.Tracked ? summary with { Tracked = false, NextRefreshAt = null } : null;
        }, createIfMissing: false, cancellationToken).ConfigureAwait(false);
        return wasTracked;
    }

    public Task<TrackedTagPage> ListAsync(TagState? state, int pageSize, string? continuationToken, CancellationToken cancellationToken) =>
        store.ListTrackedAsync(state, pageSize, continuationToken, cancellationToken);

    /// <summary>
    /// Records a failed refresh: retried later with back-off, and expired when the window has closed meanwhile. A settled
    /// tag whose re-check failed simply waits for its next re-check.
    /// </summary>
    public async Task RecordFailureAsync(Tag tag, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await UpdateAsync(tag, summary =>
        {
            if (!summary.Tracked)
            {
                return null;
            }

            if (summary.State.IsSettled())
            {
                return summary with { NextRefreshAt = rules.NextReadAt(summary.State, summary.WindowStart, summary.CompletedAt, now) };
            }

            if (now >= rules.ExpiresAt(summary.WindowStart))
            {
                return summary with { State = TagState.Expired, NextRefreshAt = null, FailedRefreshes = summary.FailedRefreshes + 1 };
            }

            return summary with
            {
                FailedRefreshes = summary.FailedRefreshes + 1,
                NextRefreshAt = rules.NextRetryAt(summary.FailedRefreshes + 1, summary.WindowStart, now),
            };
        }, createIfMissing: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Read, change, write with the ETag; on a lost race read again. A null change means nothing to write.</summary>
    private async Task<TagSummary?> UpdateAsync(Tag tag, Func<TagSummary, TagSummary?> change, bool createIfMissing, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var stored = await store.GetSummaryAsync(tag, cancellationToken).ConfigureAwait(false);
            var current = stored?.Summary;
            if (current is null)
            {
                if (!createIfMissing)
                {
                    return null;
                }

                var now = time.GetUtcNow();
                current = new TagSummary(tag, TagState.Pending, TagCounts.Empty, Tracked: false, now, now, null, null);
            }

            var next = change(current);
            if (next is null && stored is not null)
            {
                return current;
            }

            try
            {
                // A change of state here (expiry after failed refreshes) is owed to subscribers like any other.
                var companions = next is null ? [] : await changeObserver.OnChangeAsync(stored?.Summary, next, OptOutChanges.None, cancellationToken).ConfigureAwait(false);
                if (companions.Count > 0)
                {
                    await store.SaveRefreshAsync([], next!, stored, companions, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await store.SaveSummaryAsync(next ?? current, stored?.ETag, cancellationToken).ConfigureAwait(false);
                }

                return next ?? current;
            }
            catch (StoreConflictException) when (attempt < MaxConflictRetries)
            {
                // Someone else wrote the summary in between: apply the change to their version.
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4101, LogLevel.Information, "Tag {Tag} registered before SMS Partner could report it ({Failure}); the timer will refresh it")]
        public static partial void FirstReadFailed(ILogger logger, string tag, string failure);
    }
}
