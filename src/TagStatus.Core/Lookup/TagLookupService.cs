using Microsoft.Extensions.Logging;
using TagStatus.Core.Domain;
using TagStatus.Core.Refresh;
using TagStatus.Core.Secrets;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.Storage;

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
    /// <param name="Stale">True when SMS Partner could not be read and stored data stands in.</param>
    public sealed record Found(TagSnapshot Snapshot, LookupSource Source, bool Stale) : LookupResult;

    /// <summary>SMS Partner knows no message under the tag and nothing is stored.</summary>
    public sealed record NotFound : LookupResult;

    /// <summary>SMS Partner refused the call or answered garbage, and nothing is stored.</summary>
    public sealed record UpstreamFailed(string Detail, int? UpstreamCode) : LookupResult;

    /// <summary>SMS Partner or storage cannot be reached and nothing stored can be served.</summary>
    public sealed record Unavailable(string Detail, TimeSpan RetryAfter) : LookupResult;
}

/// <summary>The cache policy of <c>GET /api/tags/{tag}</c>: stored when fresh or settled, live otherwise, stored again when live fails.</summary>
public sealed partial class TagLookupService(ITagStore store, TagRefresher refresher, TimeProvider time, ILogger<TagLookupService> logger)
{
    private static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(30);

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
            return new LookupResult.Unavailable("Storage cannot be reached.", DefaultRetryAfter);
        }

        if (stored is not null && IsServableFromStore(stored.Summary, maxAge, time.GetUtcNow()))
        {
            return await FromStoreAsync(stored.Summary, stale: false, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            var refreshed = await refresher.RefreshAsync(tag, RefreshReason.Lookup, cancellationToken).ConfigureAwait(false);
            return new LookupResult.Found(refreshed.Snapshot, LookupSource.Live, Stale: false);
        }
        catch (SmsPartnerException e)
        {
            Log.LiveReadFailed(logger, tag.Value, e.GetType().Name, e);
            if (stored is not null)
            {
                return await FromStoreAsync(stored.Summary, stale: true, cancellationToken).ConfigureAwait(false);
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
            return new LookupResult.Unavailable("Storage cannot be reached.", DefaultRetryAfter);
        }
        catch (SecretUnavailableException e)
        {
            Log.SecretUnavailable(logger, tag.Value, e);
            return stored is not null
                ? await FromStoreAsync(stored.Summary, stale: true, cancellationToken).ConfigureAwait(false)
                : new LookupResult.Unavailable("The SMS Partner API key cannot be read from its secret store.", DefaultRetryAfter);
        }
        catch (StoreConflictException)
        {
            // Other writers kept refreshing this tag meanwhile: what they stored is as fresh as what this read found.
            Log.LostWriteRaces(logger, tag.Value);
            try
            {
                var latest = await store.GetSummaryAsync(tag, cancellationToken).ConfigureAwait(false);
                return latest is null
                    ? new LookupResult.Unavailable("The tag is being written by other requests; try again.", TimeSpan.FromSeconds(1))
                    : await FromStoreAsync(latest.Summary, stale: false, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreUnavailableException e)
            {
                Log.StoreUnavailable(logger, tag.Value, e);
                return new LookupResult.Unavailable("Storage cannot be reached.", DefaultRetryAfter);
            }
        }
    }

    /// <summary>Stored data answers when it is younger than <paramref name="maxAge"/> or the tag is settled; <c>maxAge</c> 0 always reads live.</summary>
    public static bool IsServableFromStore(TagSummary summary, TimeSpan maxAge, DateTimeOffset now) =>
        maxAge > TimeSpan.Zero && (summary.State.IsSettled() || now - summary.RefreshedAt <= maxAge);

    private async Task<LookupResult> FromStoreAsync(TagSummary summary, bool stale, CancellationToken cancellationToken)
    {
        IReadOnlyList<StoredRecipient> rows;
        try
        {
            rows = await store.GetRecipientsAsync(summary.Tag, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreUnavailableException e)
        {
            Log.StoreUnavailable(logger, summary.Tag.Value, e);
            return new LookupResult.Unavailable("Storage cannot be reached.", DefaultRetryAfter);
        }

        var recipients = rows.Select(r => r.Recipient).Order(RecipientOrder.Instance).ToList();

        // Recipient rows are written before their summary, so count what is shown rather than trust older counts.
        return new LookupResult.Found(new TagSnapshot(summary with { Counts = TagCounts.Of(recipients) }, recipients), LookupSource.Store, stale);
    }

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
    }
}
