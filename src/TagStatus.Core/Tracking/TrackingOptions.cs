using System.ComponentModel.DataAnnotations;

namespace TagStatus.Core.Tracking;

/// <summary>How long tags are followed and how often they are refreshed. Section <c>Tracking</c>.</summary>
public sealed class TrackingOptions : IValidatableObject
{
    public const string SectionName = "Tracking";

    /// <summary>How long after first seen a tag is followed: SMS Partner reports can take up to 48 hours.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromHours(48);

    /// <summary>Extra time after the window before a tag still waiting is declared expired.</summary>
    public TimeSpan Margin { get; set; } = TimeSpan.FromHours(6);

    /// <summary>
    /// Upstream pages the timer may queue per run, oldest due first: its share of the SMS Partner budget per interval
    /// (by default 80% of 5 calls/s over a one-minute schedule, leaving the rest to lookups). Due tags past it wait.
    /// </summary>
    [Range(1, 1_000_000)]
    public int PagesPerRun { get; set; } = 240;

    /// <summary>
    /// Most SMS Partner pages one refresh message reads. A bigger tag's pass goes on in follow-up messages from a stored
    /// cursor, so no invocation holds the upstream budget for long and small tags are never stuck behind big ones.
    /// </summary>
    [Range(1, 100_000)]
    public int PagesPerMessage { get; set; } = 50;

    /// <summary>
    /// A pass older than this plus its paced reading time (<see cref="IntervalPerPage"/> per page read so far) is dropped
    /// and started again: it was abandoned, or is too old to be one picture of the tag.
    /// </summary>
    public TimeSpan MaxPassAge { get; set; } = TimeSpan.FromHours(2);

    /// <summary>True when a pass begun at <paramref name="startedAt"/> that has read <paramref name="pages"/> pages is too old to finish.</summary>
    public bool PassOutlived(DateTimeOffset startedAt, int pages, DateTimeOffset now) =>
        now - startedAt > MaxPassAge + (IntervalPerPage * pages);

    /// <summary>
    /// Least time between two reads of a tag per page it has: a tag of P pages is read at most every P times this
    /// (0.8 s: a quarter of 5 calls/s), so big tags cannot take the whole upstream budget. 500 pages: every 400 s.
    /// </summary>
    public TimeSpan IntervalPerPage { get; set; } = TimeSpan.FromMilliseconds(800);

    /// <summary>Most schedule rows one run reads.</summary>
    [Range(1, 10_000)]
    public int MaxClaimsPerRun { get; set; } = 1000;

    /// <summary>How long a claimed tag's refresh may take before the tag comes due again (a crashed worker, a lost message).</summary>
    public TimeSpan RefreshLease { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often the sweep restores lost schedule rows and callback messages.</summary>
    public TimeSpan SweepEvery { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How late past its plan something must be before the sweep treats it as lost.</summary>
    public TimeSpan SweepGrace { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Refresh interval by tag age, youngest first; ages past the last step use the last interval.</summary>
    public List<RefreshStep> Backoff { get; set; } = [];

    /// <summary>
    /// How often a settled (complete or expired) tracked tag is read again, to notice a new campaign sent under the same
    /// tag. Zero turns re-checks off.
    /// </summary>
    public TimeSpan RecheckEvery { get; set; } = TimeSpan.FromHours(6);

    /// <summary>For how long after settling a tag is re-checked.</summary>
    public TimeSpan RecheckFor { get; set; } = TimeSpan.FromDays(3);

    /// <summary>Longest wait after a failed refresh of one tag.</summary>
    public TimeSpan MaxFailureDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The default steps: every minute for 10 minutes, every 5 to an hour, every 15 to 6 hours, then hourly.</summary>
    public static IReadOnlyList<RefreshStep> DefaultBackoff { get; } =
    [
        new() { UpTo = TimeSpan.FromMinutes(10), Every = TimeSpan.FromMinutes(1) },
        new() { UpTo = TimeSpan.FromHours(1), Every = TimeSpan.FromMinutes(5) },
        new() { UpTo = TimeSpan.FromHours(6), Every = TimeSpan.FromMinutes(15) },
        new() { UpTo = TimeSpan.MaxValue, Every = TimeSpan.FromHours(1) },
    ];

    public IReadOnlyList<RefreshStep> EffectiveBackoff => Backoff.Count > 0 ? Backoff : DefaultBackoff;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Window <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Tracking:Window must be positive.", [nameof(Window)]);
        }

        if (Margin < TimeSpan.Zero)
        {
            yield return new ValidationResult("Tracking:Margin may not be negative.", [nameof(Margin)]);
        }

        if (RefreshLease <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Tracking:RefreshLease must be positive.", [nameof(RefreshLease)]);
        }

        if (SweepEvery <= TimeSpan.Zero || SweepGrace < TimeSpan.Zero)
        {
            yield return new ValidationResult("Tracking:SweepEvery must be positive and Tracking:SweepGrace not negative.", [nameof(SweepEvery), nameof(SweepGrace)]);
        }

        if (RecheckEvery < TimeSpan.Zero || RecheckFor < TimeSpan.Zero)
        {
            yield return new ValidationResult("Tracking:RecheckEvery and Tracking:RecheckFor may not be negative.", [nameof(RecheckEvery)]);
        }

        if (Backoff.Any(step => step.Every <= TimeSpan.Zero))
        {
            yield return new ValidationResult("Every Tracking:Backoff step needs a positive Every.", [nameof(Backoff)]);
        }
    }
}

/// <summary>While a tag is younger than <see cref="UpTo"/>, refresh it every <see cref="Every"/>.</summary>
public sealed class RefreshStep
{
    public TimeSpan UpTo { get; set; }

    public TimeSpan Every { get; set; }
}
