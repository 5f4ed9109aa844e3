using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace TagStatus.Core.Storage;

/// <summary>How long stored data is kept. Section <c>Retention</c>.</summary>
public sealed class RetentionOptions : IValidatableObject
{
    public const string SectionName = "Retention";

    /// <summary>Months of recipient rows kept, counted in whole months from the month a tag was first seen.</summary>
    [Range(1, 1200, ErrorMessage = "Retention:Months must be between 1 and 1200.")]
    public int Months { get; set; } = 13;

    /// <summary>
    /// Months a tag's summary (and every row of its partitions: subscriptions, deliveries, listing, schedule, passes) is
    /// kept, counted like <see cref="Months"/>. Default 25: a year of summaries after the recipients go, so a campaign can
    /// still be compared with the same one a year later.
    /// </summary>
    [Range(1, 1200, ErrorMessage = "Retention:SummaryMonths must be between 1 and 1200.")]
    public int SummaryMonths { get; set; } = 25;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (SummaryMonths < Months)
        {
            yield return new ValidationResult(
                $"Retention:SummaryMonths ({SummaryMonths}) must be at least Retention:Months ({Months}): a summary answers for its recipients while they are kept.",
                [nameof(SummaryMonths)]);
        }
    }
}

/// <summary>
/// The monthly recipient tables: a tag's rows live in the table of the month it was first seen (<c>yyyyMM</c>, UTC),
/// chosen once and stored on its summary, so a tag straddling a month boundary never splits and expiry is a table delete.
/// </summary>
public static class RecipientMonths
{
    public const string TableStem = "Recipients";

    /// <summary>The month a tag first seen at <paramref name="firstSeenAt"/> keeps its recipients in.</summary>
    public static string Of(DateTimeOffset firstSeenAt) => firstSeenAt.UtcDateTime.ToString("yyyyMM", CultureInfo.InvariantCulture);

    /// <summary>
    /// The oldest month still kept at <paramref name="now"/>: the current month and the <paramref name="months"/> before it,
    /// so every row is kept at least <paramref name="months"/> months after its tag was first seen.
    /// </summary>
    public static string OldestKept(DateTimeOffset now, int months) => Of(new DateTimeOffset(now.UtcDateTime.Year, now.UtcDateTime.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(-months));

    /// <summary>Whether a month's table is past retention (months compare as text: <c>yyyyMM</c> sorts by time).</summary>
    public static bool IsExpired(string month, DateTimeOffset now, int months) => string.CompareOrdinal(month, OldestKept(now, months)) < 0;

    /// <summary>The table of a month, or the single table of tags stored before months existed (<paramref name="month"/> null).</summary>
    public static string TableName(string prefix, string? month) => prefix + TableStem + month;
}

/// <summary>The tag's recipient rows are past retention and were deleted; its summary still answers.</summary>
public sealed class RecipientsExpiredException(string tag, string? month)
    : Exception($"The recipients of tag '{tag}' (stored in month {month ?? "before monthly tables"}) are past retention and were deleted.")
{
    public string Tag { get; } = tag;

    public string? Month { get; } = month;
}
