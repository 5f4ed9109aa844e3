using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TagStatus.Core.Domain;
using TagStatus.Core.Queues;
using TagStatus.Core.Refresh;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;

namespace TagStatus.Core.Lookup;

/// <summary>
/// A read of a tag while a caller waits (a lookup, a registration): at most <see cref="LookupOptions.MaxInlinePages"/>
/// pages. A pass that has not ended by then is stored as an open pass and handed to the refresh queue, whose steps read
/// it on, so no request reads a big tag's thousands of pages or holds them.
/// </summary>
public sealed partial class InlineRead(
    ISmsPartnerClient client,
    TagRefresher refresher,
    IPassStore passes,
    ITagStore store,
    IWorkQueue queue,
    IOptions<LookupOptions> options,
    IOptions<TrackingOptions> tracking,
    ILogger<InlineRead> logger)
{
    /// <returns>
    /// The refresh the read ended in, or the pass still open after the inline pages (not merged: hand it over with
    /// <see cref="HandOverAsync"/>, after writing anything that would put the tag in the schedule).
    /// </returns>
    public async Task<(RefreshResult? Read, UpstreamPass? Open)> ReadAsync(Tag tag, RefreshReason reason, CancellationToken cancellationToken)
    {
        var pass = new UpstreamPass();
        await client.ContinuePassAsync(tag, pass, options.Value.MaxInlinePages, cancellationToken).ConfigureAwait(false);
        if (pass.End == PassEnd.Open)
        {
            Log.HandedOver(logger, tag.Value, pass.PagesRead, options.Value.MaxInlinePages);
            return (null, pass);
        }

        return (await refresher.SaveAsync(tag, pass, reason, cancellationToken).ConfigureAwait(false), null);
    }

    /// <summary>When a read handed over at <paramref name="now"/> holds the tag's row in the schedule until.</summary>
    public DateTimeOffset HeldUntil(DateTimeOffset now) => now + tracking.Value.RefreshLease;

    /// <summary>
    /// A row in the schedule, claimed a lease ahead, for a refresh queued on a caller's behalf: the timer counts it in
    /// flight like its own (a step reads at most a message's share, so <paramref name="pages"/> is at most that: a hold
    /// whose lease runs out is then not priced as a new big pass), and the refresh renews it while its pass goes on.
    /// </summary>
    public Task<DueTag> HoldInFlightAsync(Tag tag, int pages, DateTimeOffset now, CancellationToken cancellationToken) =>
        store.HoldInFlightAsync(tag, HeldUntil(now), pages, cancellationToken);

    /// <summary>
    /// Stores the pages read as an open pass and queues its next step, so the refresh goes on from there. Its claimed row
    /// in the schedule (<see cref="HeldUntil"/>) replaces an unclaimed one a summary written just before put there.
    /// </summary>
    public async Task HandOverAsync(Tag tag, UpstreamPass pass, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            await passes.SaveAsync(tag, pass, pagesStored: 0, now, expected: null, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreConflictException)
        {
            // A pass of the tag is already open (a queued refresh): it goes on by its own messages. One too old to finish
            // was abandoned (its messages failed for good, or no step will take it): it goes, and this read takes over,
            // or every later lookup of the tag would answer 202 for ever.
            if (await passes.GetCursorAsync(tag, cancellationToken).ConfigureAwait(false) is { } open && tracking.Value.PassOutlived(open.StartedAt, open.Pages, now))
            {
                Log.AbandonedPassTakenOver(logger, tag.Value, open.Pages, open.StartedAt);
                await passes.DeleteAsync(tag, cancellationToken).ConfigureAwait(false);
                await HandOverAsync(tag, pass, now, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        // Still open after the inline pages: its steps will read a message's share each.
        var held = await HoldInFlightAsync(tag, tracking.Value.PagesPerMessage, now, cancellationToken).ConfigureAwait(false);
        await queue.EnqueueRefreshAsync(new RefreshMessage(tag.Value, now, FollowUp: true, Requested: true, HeldUntil: held.DueAt), cancellationToken).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(3007, LogLevel.Warning, "Tag {Tag}: an open pass of {Pages} pages begun at {StartedAt} is too old to finish; this read takes over")]
        public static partial void AbandonedPassTakenOver(ILogger logger, string tag, int pages, DateTimeOffset startedAt);

        [LoggerMessage(3006, LogLevel.Information, "Tag {Tag} has {Pages} pages or more, over the {MaxInlinePages} a caller waits for; its refresh is queued")]
        public static partial void HandedOver(ILogger logger, string tag, int pages, int maxInlinePages);
    }
}
