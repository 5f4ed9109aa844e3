using Microsoft.Extensions.Options;
using TagStatus.Core.Tracking;

namespace TagStatus.Core.Domain;

/// <summary>The rules that turn counts and age into a state and a next refresh time.</summary>
public sealed class TagStateRules(IOptions<TrackingOptions> options)
{
    private readonly TrackingOptions _options = options.Value;

    public DateTimeOffset ExpiresAt(DateTimeOffset firstSeenAt) => firstSeenAt + _options.Window + _options.Margin;

    /// <param name="answerComplete">False when SMS Partner's answer held fewer rows than it announced: never complete on partial data.</param>
    public TagState Decide(TagCounts counts, bool answerComplete, DateTimeOffset firstSeenAt, DateTimeOffset now)
    {
        if (counts.Total > 0 && counts.Waiting == 0 && answerComplete)
        {
            return TagState.Complete;
        }

        return now >= ExpiresAt(firstSeenAt) ? TagState.Expired : TagState.Pending;
    }

    /// <summary>When a pending tag should next be refreshed: often while young, hourly near the end of the window.</summary>
    public DateTimeOffset? NextRefreshAt(TagState state, DateTimeOffset firstSeenAt, DateTimeOffset now)
    {
        if (state.IsSettled())
        {
            return null;
        }

        var age = now - firstSeenAt;
        var every = _options.EffectiveBackoff.FirstOrDefault(step => age < step.UpTo)?.Every
            ?? _options.EffectiveBackoff[^1].Every;
        var next = now + every;
        var expiresAt = ExpiresAt(firstSeenAt);
        return next > expiresAt ? expiresAt : next;
    }

    /// <summary>After a failed refresh: the usual interval doubled per failure, capped.</summary>
    public DateTimeOffset NextRetryAt(int failures, DateTimeOffset firstSeenAt, DateTimeOffset now)
    {
        var usual = (NextRefreshAt(TagState.Pending, firstSeenAt, now) ?? now) - now;
        var factor = Math.Pow(2, Math.Clamp(failures, 0, 16));
        var delay = TimeSpan.FromTicks((long)Math.Min(usual.Ticks * factor, _options.MaxFailureDelay.Ticks));
        return now + (delay < TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(30) : delay);
    }
}
