using Microsoft.Extensions.Options;
using TagStatus.Core.Tracking;

namespace TagStatus.Core.Domain;

/// <summary>The rules that turn counts, passes and age into a state and a next refresh time.</summary>
public sealed class TagStateRules(IOptions<TrackingOptions> options)
{
    private readonly TrackingOptions _options = options.Value;

    public DateTimeOffset ExpiresAt(DateTimeOffset windowStart) => windowStart + _options.Window + _options.Margin;

    /// <summary>
    /// Complete only after a full pass (a total announced and that many distinct rows read) with nothing waiting and
    /// nothing unknown; expired when the window closed first; pending otherwise.
    /// </summary>
    /// <param name="fullPass">The last read was a full pass (<see cref="UpstreamPass.IsFull"/>).</param>
    public TagState Decide(TagCounts counts, bool fullPass, DateTimeOffset windowStart, DateTimeOffset now)
    {
        if (counts.Total > 0 && counts.Waiting == 0 && counts.Unknown == 0 && fullPass)
        {
            return TagState.Complete;
        }

        return now >= ExpiresAt(windowStart) ? TagState.Expired : TagState.Pending;
    }

    /// <summary>
    /// The state after a read. A reopened tag is pending, whatever the read showed, so subscribers hear of it; a read
    /// that found nothing new never takes a complete tag back (a partial read proves nothing against a full one).
    /// </summary>
    public TagState After(TagState? previous, bool reopened, TagCounts counts, bool fullPass, DateTimeOffset windowStart, DateTimeOffset now)
    {
        if (reopened)
        {
            return TagState.Pending;
        }

        return previous == TagState.Complete ? TagState.Complete : Decide(counts, fullPass, windowStart, now);
    }

    /// <summary>True when a read of a settled tag found what it did not have: rows, or a larger announced total.</summary>
    public static bool Reopens(TagSummary? previous, bool grew, int? announcedTotal) =>
        previous is not null && previous.State.IsSettled()
        && (grew || announcedTotal > (previous.UpstreamTotal ?? previous.Counts.Total));

    /// <summary>When a pending tag should next be refreshed: often while young, hourly near the end of the window.</summary>
    public DateTimeOffset? NextRefreshAt(TagState state, DateTimeOffset windowStart, DateTimeOffset now)
    {
        if (state.IsSettled())
        {
            return null;
        }

        var age = now - windowStart;
        var every = _options.EffectiveBackoff.FirstOrDefault(step => age < step.UpTo)?.Every
            ?? _options.EffectiveBackoff[^1].Every;
        var next = now + every;
        var expiresAt = ExpiresAt(windowStart);
        return next > expiresAt ? expiresAt : next;
    }

    /// <summary>
    /// When a settled tag is next read again, to notice a new campaign under the same tag: every
    /// <see cref="TrackingOptions.RecheckEvery"/> until <see cref="TrackingOptions.RecheckFor"/> after it settled, then never.
    /// </summary>
    public DateTimeOffset? NextRecheckAt(DateTimeOffset settledAt, DateTimeOffset now)
    {
        if (_options.RecheckEvery <= TimeSpan.Zero)
        {
            return null;
        }

        var next = now + _options.RecheckEvery;
        return next <= settledAt + _options.RecheckFor ? next : null;
    }

    /// <summary>
    /// When the timer should next read a tracked tag in this state: the back-off while pending, stretched to at least
    /// <paramref name="pages"/> × <see cref="TrackingOptions.IntervalPerPage"/> for a big tag (never past its expiry);
    /// the re-check once settled.
    /// </summary>
    public DateTimeOffset? NextReadAt(TagState state, DateTimeOffset windowStart, DateTimeOffset? completedAt, DateTimeOffset now, int pages = 1) => state switch
    {
        TagState.Complete => NextRecheckAt(completedAt ?? now, now),
        TagState.Expired => NextRecheckAt(ExpiresAt(windowStart), now),
        _ => Stretched(NextRefreshAt(state, windowStart, now), pages, ExpiresAt(windowStart), now),
    };

    private DateTimeOffset? Stretched(DateTimeOffset? next, int pages, DateTimeOffset expiresAt, DateTimeOffset now)
    {
        var least = now + (_options.IntervalPerPage * Math.Max(1, pages));
        return next is { } at && least > at ? (least < expiresAt ? least : expiresAt) : next;
    }

    /// <summary>After a failed refresh: the usual interval doubled per failure, capped.</summary>
    public DateTimeOffset NextRetryAt(int failures, DateTimeOffset windowStart, DateTimeOffset now)
    {
        var usual = (NextRefreshAt(TagState.Pending, windowStart, now) ?? now) - now;
        var factor = Math.Pow(2, Math.Clamp(failures, 0, 16));
        var delay = TimeSpan.FromTicks((long)Math.Min(usual.Ticks * factor, _options.MaxFailureDelay.Ticks));
        return now + (delay < TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(30) : delay);
    }
}
