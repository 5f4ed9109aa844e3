using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TagStatus.Core.Domain;
using TagStatus.Core.Queues;
using TagStatus.Core.Refresh;
using TagStatus.Core.Secrets;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;

namespace TagStatus.Core.Lookup;

/// <summary>Where the answer came from.</summary>
public enum LookupSource
{
    Store,
    Live,
}

/// <summary>What a lookup found; each case maps to one HTTP answer.</summary>
public abstract record LookupResult
{
    /// <summary>The tag's stored summary answers; its recipients are read a page at a time (<see cref="TagLookupService.ReadPageAsync"/>).</summary>
    /// <param name="Stale">True when SMS Partner could not be read and stored data stands in.</param>
    /// <param name="Refreshing">True when stored data stands in while a refresh of the tag is under way elsewhere.</param>
    public sealed record Found(TagSummary Summary, LookupSource Source, bool Stale, bool Refreshing = false) : LookupResult;

    /// <summary>Nothing is stored yet and a refresh of the tag is under way: ask again after <paramref name="RetryAfter"/>.</summary>
    public sealed record Accepted(TimeSpan RetryAfter) : LookupResult;

    /// <summary>SMS Partner knows no message under the tag and nothing is stored.</summary>
    public sealed record NotFound : LookupResult;

    /// <summary>SMS Partner refused the call or answered garbage, and nothing is stored.</summary>
    public sealed record UpstreamFailed(string Detail, int? UpstreamCode) : LookupResult;

    /// <summary>SMS Partner or storage cannot be reached and nothing stored can be served.</summary>
    public sealed record Unavailable(string Detail, TimeSpan RetryAfter) : LookupResult;
}

/// <summary>
/// The cache policy of <c>GET /api/tags/{tag}</c>: stored when fresh or settled, live otherwise, stored again when live
/// fails. One lookup at a time reads a tag upstream, across instances (a claim in storage); the others serve what is
/// stored, marked as refreshing. A tag of more than <see cref="LookupOptions.MaxInlinePages"/> pages is never read while
/// the caller waits: it goes to the refresh queue.
/// </summary>
public sealed partial class TagLookupService(
    ITagStore store,
    InlineRead inlineRead,
    IWorkQueue queue,
    IOptions<LookupOptions> options,
    IOptions<TrackingOptions> tracking,
    TimeProvider time,
    ILogger<TagLookupService> logger)
{
    private static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan InlineReadRetryAfter = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan QueuedReadRetryAfter = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan WaitStep = TimeSpan.FromMilliseconds(250);

    /// <summary>Rows a CSV asks storage for at a time: the most one query answers.</summary>
    private const int StreamPageSize = 1000;

    public async Task<LookupResult> LookupAsync(Tag tag, TimeSpan maxAge, CancellationToken cancellationToken)
    {
        StoredSummary? stored;
        try
        {
            stored = await store.GetSummaryAsync(tag, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreUnavailableException e)
        {
            Log.StoreUnavailable(logger, tag.Value, e);
            return StorageDown();
        }

        if (IsServable(stored, maxAge))
        {
            return new LookupResult.Found(stored.Summary, LookupSource.Store, Stale: false);
        }

        RefreshClaim? claim;
        try
        {
            var now = time.GetUtcNow();
            claim = await store.TryClaimRefreshAsync(tag, now, now + options.Value.RefreshClaim, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreUnavailableException e)
        {
            Log.StoreUnavailable(logger, tag.Value, e);
            return stored is not null ? new LookupResult.Found(stored.Summary, LookupSource.Store, Stale: true) : StorageDown();
        }

        if (claim is null)
        {
            Log.RefreshUnderWay(logger, tag.Value);
            return stored switch
            {
                null => await WaitForOtherReadAsync(tag, cancellationToken).ConfigureAwait(false),
                // Past retention: another lookup is reading what the name holds now, as for a tag not stored yet.
                { RecipientsExpired: true } => new LookupResult.Accepted(InlineReadRetryAfter),
                _ => new LookupResult.Found(stored.Summary, LookupSource.Store, Stale: false, Refreshing: true),
            };
        }

        var keepClaim = false;
        try
        {
            // The previous holder may have stored a fresh read after this lookup read the summary.
            stored = await store.GetSummaryAsync(tag, cancellationToken).ConfigureAwait(false);
            if (IsServable(stored, maxAge))
            {
                return new LookupResult.Found(stored.Summary, LookupSource.Store, Stale: false);
            }

            var (result, queued) = await ReadUpstreamAsync(tag, stored, cancellationToken).ConfigureAwait(false);
            keepClaim = queued; // a queued refresh keeps the claim until it expires, so other lookups do not queue it again
            return result;
        }
        catch (RecipientsExpiredException) when (stored is not null)
        {
            // Past retention: the summary still answers, and its recipients answer 410 when read.
            return new LookupResult.Found(stored.Summary, LookupSource.Store, Stale: false);
        }
        catch (SmsPartnerException e)
        {
            Log.LiveReadFailed(logger, tag.Value, e.GetType().Name, e);
            if (stored is not null)
            {
                return new LookupResult.Found(stored.Summary, LookupSource.Store, Stale: true);
            }

            return e switch
            {
                SmsPartnerRefusedException { IsNotFound: true } => new LookupResult.NotFound(),
                SmsPartnerRefusedException refused => new LookupResult.UpstreamFailed(refused.Message, refused.Code),
                SmsPartnerBadAnswerException bad => new LookupResult.UpstreamFailed(bad.Message, null),
                SmsPartnerUnavailableException down => new LookupResult.Unavailable(down.Message, Clamp(down.RetryAfter)),
                _ => new LookupResult.UpstreamFailed(e.Message, null),
            };
        }
        catch (StoreUnavailableException e)
        {
            Log.StoreUnavailable(logger, tag.Value, e);
            return StorageDown();
        }
        catch (SecretUnavailableException e)
        {
            Log.SecretUnavailable(logger, tag.Value, e);
            return stored is not null
                ? new LookupResult.Found(stored.Summary, LookupSource.Store, Stale: true)
                : new LookupResult.Unavailable("The SMS Partner API key cannot be read from its secret store.", DefaultRetryAfter);
        }
        catch (StoreConflictException)
        {
            // Other writers (the refresh queue, a registration) kept changing this tag meanwhile: what they stored is as fresh.
            Log.LostWriteRaces(logger, tag.Value);
            return await LatestAsync(tag, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (!keepClaim)
            {
                await ReleaseAsync(claim).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// A stored summary answers unless its recipients are past retention: then the name is read upstream, and if SMS Partner
    /// still has rows under it, it starts again as a new tag (<see cref="TagRefresher"/>).
    /// </summary>
    private bool IsServable([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] StoredSummary? stored, TimeSpan maxAge) =>
        stored is { RecipientsExpired: false } && IsServableFromStore(stored.Summary, maxAge, time.GetUtcNow());

    /// <summary>Stored data answers when it is younger than <paramref name="maxAge"/> or the tag is settled; <c>maxAge</c> 0 always reads live.</summary>
    public static bool IsServableFromStore(TagSummary summary, TimeSpan maxAge, DateTimeOffset now) =>
        maxAge > TimeSpan.Zero && (summary.State.IsSettled() || now - summary.RefreshedAt <= maxAge);

    /// <summary>One page of the tag's recipients: one query of storage, whatever the tag's size.</summary>
    /// <exception cref="ArgumentException">The continuation token is not one this service gave.</exception>
    /// <exception cref="StoreUnavailableException">Storage cannot be read.</exception>
    /// <exception cref="RecipientsExpiredException">The tag's recipients are past retention.</exception>
    public Task<RecipientPage> ReadPageAsync(Tag tag, RecipientQuery query, CancellationToken cancellationToken) =>
        store.GetRecipientPageAsync(tag, query.Filter, query.PageSize, query.ContinuationToken, cancellationToken);

    /// <summary>
    /// Every recipient <paramref name="filter"/> matches, a storage page at a time, so memory stays bounded whatever the
    /// tag's size. A tag whose matching rows fit one page comes in number order (as before paging existed); a bigger one
    /// in storage order.
    /// </summary>
    public async IAsyncEnumerable<Recipient> ReadAllAsync(Tag tag, RecipientFilter? filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var page = await store.GetRecipientPageAsync(tag, filter, StreamPageSize, null, cancellationToken).ConfigureAwait(false);
        if (page.ContinuationToken is null)
        {
            foreach (var recipient in page.Recipients.Order(RecipientOrder.Instance))
            {
                yield return recipient;
            }

            yield break;
        }

        while (true)
        {
            foreach (var recipient in page.Recipients)
            {
                yield return recipient;
            }

            if (page.ContinuationToken is not { } next)
            {
                yield break;
            }

            page = await store.GetRecipientPageAsync(tag, filter, StreamPageSize, next, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Under the claim: a tag known to be big goes to the refresh queue at once; otherwise at most
    /// <see cref="LookupOptions.MaxInlinePages"/> pages are read, and a read that has not ended by then is handed to the
    /// queue as an open pass (its pages kept). Returns whether the read was queued.
    /// </summary>
    private async Task<(LookupResult Result, bool Queued)> ReadUpstreamAsync(Tag tag, StoredSummary? stored, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        // A summary past retention says nothing of the size of what the name holds now: read it as a new tag.
        var current = stored is { RecipientsExpired: false } ? stored : null;
        if (current is not null && current.Summary.EstimatedPages > settings.MaxInlinePages)
        {
            Log.QueuedBigTag(logger, tag.Value, current.Summary.EstimatedPages, settings.MaxInlinePages);
            var held = await inlineRead.HoldInFlightAsync(tag, Math.Min(current.Summary.EstimatedPages, tracking.Value.PagesPerMessage), now, cancellationToken).ConfigureAwait(false);
            await queue.EnqueueRefreshAsync(new RefreshMessage(tag.Value, now, Requested: true, HeldUntil: held.DueAt), cancellationToken).ConfigureAwait(false);
            return (new LookupResult.Found(current.Summary, LookupSource.Store, Stale: false, Refreshing: true), true);
        }

        var (refreshed, open) = await inlineRead.ReadAsync(tag, RefreshReason.Lookup, cancellationToken).ConfigureAwait(false);
        if (open is not null)
        {
            await inlineRead.HandOverAsync(tag, open, now, cancellationToken).ConfigureAwait(false);
            return (current is not null
                ? new LookupResult.Found(current.Summary, LookupSource.Store, Stale: false, Refreshing: true)
                : new LookupResult.Accepted(QueuedReadRetryAfter), true);
        }

        return (new LookupResult.Found(refreshed!.Snapshot.Summary, LookupSource.Live, Stale: false), false);
    }

    /// <summary>Nothing stored and another lookup is reading the tag: wait a little for its answer, then 202.</summary>
    private async Task<LookupResult> WaitForOtherReadAsync(Tag tag, CancellationToken cancellationToken)
    {
        try
        {
            // Bounded by steps, not by reading the clock: at most WaitForRefresh in all.
            for (var waited = TimeSpan.Zero; waited < options.Value.WaitForRefresh; waited += WaitStep)
            {
                await Task.Delay(WaitStep, time, cancellationToken).ConfigureAwait(false);
                if (await store.GetSummaryAsync(tag, cancellationToken).ConfigureAwait(false) is { } arrived)
                {
                    return new LookupResult.Found(arrived.Summary, LookupSource.Store, Stale: false);
                }
            }
        }
        catch (StoreUnavailableException e)
        {
            Log.StoreUnavailable(logger, tag.Value, e);
            return StorageDown();
        }

        return new LookupResult.Accepted(InlineReadRetryAfter);
    }

    private async Task<LookupResult> LatestAsync(Tag tag, CancellationToken cancellationToken)
    {
        try
        {
            var latest = await store.GetSummaryAsync(tag, cancellationToken).ConfigureAwait(false);
            return latest is null
                ? new LookupResult.Unavailable("The tag is being written by other requests; try again.", TimeSpan.FromSeconds(1))
                : new LookupResult.Found(latest.Summary, LookupSource.Store, Stale: false);
        }
        catch (StoreUnavailableException e)
        {
            Log.StoreUnavailable(logger, tag.Value, e);
            return StorageDown();
        }
    }

    /// <summary>Gives the claim up; if that fails it simply expires.</summary>
    private async Task ReleaseAsync(RefreshClaim claim)
    {
        try
        {
            await store.ReleaseRefreshAsync(claim, CancellationToken.None).ConfigureAwait(false);
        }
        catch (StoreUnavailableException e)
        {
            Log.StoreUnavailable(logger, claim.Tag.Value, e);
        }
    }

    private static LookupResult.Unavailable StorageDown() => new("Storage cannot be reached.", DefaultRetryAfter);

    private static TimeSpan Clamp(TimeSpan? retryAfter) =>
        retryAfter is { } value && value > TimeSpan.Zero ? (value > TimeSpan.FromHours(1) ? TimeSpan.FromHours(1) : value) : DefaultRetryAfter;

    private static partial class Log
    {
        [LoggerMessage(3001, LogLevel.Warning, "Storage could not be read for tag {Tag}")]
        public static partial void StoreUnavailable(ILogger logger, string tag, Exception exception);

        [LoggerMessage(3004, LogLevel.Error, "The SMS Partner API key could not be read for tag {Tag}")]
        public static partial void SecretUnavailable(ILogger logger, string tag, Exception exception);

        [LoggerMessage(3003, LogLevel.Information, "Tag {Tag} kept changing under this lookup's writes; serving what the other writers stored")]
        public static partial void LostWriteRaces(ILogger logger, string tag);

        [LoggerMessage(3002, LogLevel.Warning, "SMS Partner could not be read for tag {Tag} ({Failure})")]
        public static partial void LiveReadFailed(ILogger logger, string tag, string failure, Exception exception);

        [LoggerMessage(3005, LogLevel.Debug, "Tag {Tag} is being read upstream by another lookup; serving what is stored")]
        public static partial void RefreshUnderWay(ILogger logger, string tag);

        [LoggerMessage(3008, LogLevel.Information, "Tag {Tag} has {Pages} pages or more, over the {MaxInlinePages} a lookup reads inline; its refresh is queued")]
        public static partial void QueuedBigTag(ILogger logger, string tag, int pages, int maxInlinePages);
    }
}
