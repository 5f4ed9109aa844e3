using System.ComponentModel.DataAnnotations;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.SmsPartner.Budget;

namespace TagStatus.Tests.SmsPartner.Budget;

public sealed class BudgetRulesTests
{
    [Fact]
    public void The_defaults_are_a_batch_of_two_a_burst_of_one_and_300_ms_of_grace()
    {
        var rules = BudgetRules.From(new SmsPartnerOptions());

        Assert.Equal(5, rules.RatePerSecond);
        Assert.Equal(2, rules.BatchSize);
        Assert.Equal(1, rules.Capacity);
        Assert.Equal(TimeSpan.FromMilliseconds(300), rules.HoldTime);
    }

    [Theory]
    [InlineData(5, 1)]
    [InlineData(5, 2)]
    [InlineData(5, 5)]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    [InlineData(10, 5)]
    [InlineData(100, 20)]
    [InlineData(1000, 50)]
    public void Any_10_second_window_stays_within_110_percent_of_the_rate_with_calls_a_hold_time_late_on_the_way(int rate, int batch)
    {
        var rules = new BudgetRules(rate, batch);

        // Slots are at least 1/rate apart; a call is sent up to HoldTime after its slot and may take as long again to
        // arrive, so SMS Partner sees the slots of 10 s + 2 × HoldTime in its 10 s window.
        var mostCallsArrivingIn10Seconds = 1 + Math.Floor(rate * (10 + 2 * rules.HoldTime.TotalSeconds) + 1e-9);

        Assert.True(mostCallsArrivingIn10Seconds <= rate * 11, $"{mostCallsArrivingIn10Seconds} calls in 10 s at {rate}/s");
        Assert.True(rules.HoldTime >= TimeSpan.FromMilliseconds(100), $"a grace of {rules.HoldTime.TotalMilliseconds} ms at {rate}/s");
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
