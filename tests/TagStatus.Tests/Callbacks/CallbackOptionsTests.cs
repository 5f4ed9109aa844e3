using TagStatus.Core.Callbacks;

namespace TagStatus.Tests.Callbacks;

public sealed class CallbackOptionsTests
{
    [Theory]
    [InlineData(1, 30)]
    [InlineData(2, 60)]
    [InlineData(3, 120)]
    [InlineData(4, 240)]
    [InlineData(8, 3840)]
    public void The_retry_delay_doubles_from_the_first_delay(int attempt, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), new CallbackOptions().RetryDelay(attempt));

    [Theory]
    [InlineData(9)]
    [InlineData(12)]
    [InlineData(50)]
    [InlineData(int.MaxValue)]
    public void The_retry_delay_is_capped_at_the_max_delay(int attempt) =>
        Assert.Equal(TimeSpan.FromHours(2), new CallbackOptions().RetryDelay(attempt));

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void An_attempt_below_one_waits_the_first_delay(int attempt) =>
        Assert.Equal(TimeSpan.FromSeconds(30), new CallbackOptions().RetryDelay(attempt));

    [Fact]
    public void The_retry_delay_follows_configured_first_and_max_delays()
    {
        var options = new CallbackOptions { FirstRetryDelay = TimeSpan.FromSeconds(5), MaxRetryDelay = TimeSpan.FromSeconds(12) };

        Assert.Equal(TimeSpan.FromSeconds(5), options.RetryDelay(1));
        Assert.Equal(TimeSpan.FromSeconds(10), options.RetryDelay(2));
        Assert.Equal(TimeSpan.FromSeconds(12), options.RetryDelay(3));
    }

    [Fact]
    public void Retries_back_off_over_hours_with_the_default_settings()
    {
        var options = new CallbackOptions();

        // MaxAttempts attempts leave MaxAttempts - 1 waits between them.
        var total = Enumerable.Range(1, options.MaxAttempts - 1).Aggregate(TimeSpan.Zero, (sum, attempt) => sum + options.RetryDelay(attempt));

        Assert.InRange(total, TimeSpan.FromHours(6), TimeSpan.FromHours(12));
    }
}
