using System.ComponentModel.DataAnnotations;
using TagStatus.Core.Storage;

namespace TagStatus.Tests.Storage;

public sealed class RecipientMonthsTests
{
    [Theory]
    [InlineData("2026-01-31T23:59:59+00:00", "202601")]
    [InlineData("2026-02-01T00:30:00+01:00", "202601")] // the month is UTC's
    [InlineData("2026-12-01T00:00:00+00:00", "202612")]
    public void The_month_is_the_utc_month_first_seen(string firstSeen, string month) =>
        Assert.Equal(month, RecipientMonths.Of(DateTimeOffset.Parse(firstSeen, System.Globalization.CultureInfo.InvariantCulture)));

    [Theory]
    [InlineData("2026-12-01T00:00:00Z", 13, "202511")]
    [InlineData("2026-12-31T23:59:59Z", 13, "202511")]
    [InlineData("2027-01-01T00:00:00Z", 13, "202512")]
    [InlineData("2026-03-15T00:00:00Z", 1, "202602")]
    [InlineData("2026-01-15T00:00:00Z", 1, "202512")]
    public void The_oldest_kept_month_is_the_current_one_less_the_setting(string now, int months, string oldest) =>
        Assert.Equal(oldest, RecipientMonths.OldestKept(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture), months));

    [Fact]
    public void A_month_expires_only_after_the_months_kept()
    {
        var now = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.False(RecipientMonths.IsExpired("202511", now, 13));
        Assert.True(RecipientMonths.IsExpired("202510", now, 13));
        Assert.False(RecipientMonths.IsExpired("202612", now, 13));
    }

    [Fact]
    public void Every_row_is_kept_at_least_the_months_set()
    {
        // Any first-seen instant and any later now: expired implies at least Months months have passed since first seen.
        ForRandomCases(16, (random, firstSeen, now) =>
        {
            var months = random.Next(1, 30);
            if (RecipientMonths.IsExpired(RecipientMonths.Of(firstSeen), now, months))
            {
                Assert.True(firstSeen.AddMonths(months) <= now, $"{firstSeen:O} expired at {now:O} with {months} months");
            }
        });
    }

    [Fact]
    public void Month_tables_are_the_prefixed_stem_and_the_single_table_has_no_month()
    {
        Assert.Equal("abcRecipients202612", RecipientMonths.TableName("abc", "202612"));
        Assert.Equal("abcRecipients", RecipientMonths.TableName("abc", null));
    }

    [Theory]
    [InlineData(13, true)]
    [InlineData(1, true)]
    [InlineData(0, false)]
    public void Months_is_checked_with_a_message_naming_the_setting(int months, bool valid)
    {
        var options = new RetentionOptions { Months = months };
        var results = new List<ValidationResult>();
        Assert.Equal(valid, Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
        Assert.All(results, r => Assert.StartsWith("Retention:Months", r.ErrorMessage, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(13, 25, true)]
    [InlineData(13, 13, true)]
    [InlineData(13, 12, false)]
    [InlineData(1, 0, false)]
    public void SummaryMonths_is_checked_and_never_below_Months(int months, int summaryMonths, bool valid)
    {
        var options = new RetentionOptions { Months = months, SummaryMonths = summaryMonths };
        var results = new List<ValidationResult>();
        Assert.Equal(valid, Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
        Assert.All(results, r => Assert.StartsWith("Retention:SummaryMonths", r.ErrorMessage, StringComparison.Ordinal));
    }

    [Fact]
    public void The_defaults_keep_summaries_a_year_longer_than_recipients()
    {
        var options = new RetentionOptions();
        Assert.Equal((13, 25), (options.Months, options.SummaryMonths));
    }

    [Fact]
    public void A_summary_outlives_its_recipients_and_is_kept_at_least_the_summary_months()
    {
        // Any first-seen instant, any later now, any valid pair: a summary never expires before its recipients, nor early.
        ForRandomCases(1616, (random, firstSeen, now) =>
        {
            var months = random.Next(1, 30);
            var summaryMonths = random.Next(months, 40);
            var month = RecipientMonths.Of(firstSeen);
            if (RecipientMonths.IsExpired(month, now, summaryMonths))
            {
                Assert.True(RecipientMonths.IsExpired(month, now, months), $"{firstSeen:O}: summary expired before recipients at {now:O}");
                Assert.True(firstSeen.AddMonths(summaryMonths) <= now, $"{firstSeen:O} summary expired at {now:O} with {summaryMonths} months");
            }
        });
    }

    /// <summary>10,000 first-seen instants over five years, each with a later now up to four years on.</summary>
    private static void ForRandomCases(int seed, Action<Random, DateTimeOffset, DateTimeOffset> check)
    {
        var random = new Random(seed);
        for (var i = 0; i < 10_000; i++)
        {
            var firstSeen = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(random.Next(0, 5 * 365 * 24 * 60));
            check(random, firstSeen, firstSeen.AddMinutes(random.Next(0, 4 * 365 * 24 * 60)));
        }
    }
}
