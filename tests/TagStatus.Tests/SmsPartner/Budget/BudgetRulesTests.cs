using System.ComponentModel.DataAnnotations;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.SmsPartner.Budget;

namespace TagStatus.Tests.SmsPartner.Budget;

public sealed class BudgetRulesTests
{
    [Fact]
    public void The_defaults_are_a_batch_of_two_a_burst_of_one_and_800_ms_of_grace()
    {
        var rules = BudgetRules.From(new SmsPartnerOptions());

        Assert.Equal(5, rules.RatePerSecond);
        Assert.Equal(2, rules.BatchSize);
        Assert.Equal(1, rules.Capacity);
        Assert.Equal(TimeSpan.FromMilliseconds(800), rules.HoldTime);
    }

    [Theory]
    [InlineData(5, 1)]
    [InlineData(5, 2)]
    [InlineData(5, 5)]
    [InlineData(1, 1)]
    [InlineData(100, 20)]
    [InlineData(1000, 50)]
    public void Any_10_second_window_stays_within_110_percent_of_the_rate(int rate, int batch)
    {
        var rules = new BudgetRules(rate, batch);

        // What the bucket held, its refill over the window, and slots up to HoldTime before it spent late.
        var mostCallsIn10Seconds = rules.Capacity + rate * (10 + rules.HoldTime.TotalSeconds);

        Assert.True(mostCallsIn10Seconds <= rate * 11 + 1e-9, $"{mostCallsIn10Seconds} calls in 10 s at {rate}/s");
    }

    [Fact]
    public void A_batch_larger_than_the_rate_is_refused_naming_both_settings()
    {
        var options = new SmsPartnerOptions { RequestsPerSecond = 5, BudgetBatchSize = 6 };

        var errors = Validate(options);

        var error = Assert.Single(errors);
        Assert.Contains("SmsPartner:BudgetBatchSize", error.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("SmsPartner:RequestsPerSecond", error.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_batch_of_zero_is_refused_naming_the_setting()
    {
        var errors = Validate(new SmsPartnerOptions { BudgetBatchSize = 0 });

        Assert.Contains(errors, e => e.ErrorMessage!.Contains("SmsPartner:BudgetBatchSize", StringComparison.Ordinal));
    }

    [Fact]
    public void The_default_options_are_valid()
    {
        Assert.Empty(Validate(new SmsPartnerOptions()));
    }

    private static List<ValidationResult> Validate(SmsPartnerOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }
}
