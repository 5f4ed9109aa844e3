using SmsPartner.Simulator;

namespace TagStatus.FaultTests.Support;

/// <summary>
/// How a compressed day's rows settle on the simulator's clock (<c>DAY_PROFILE</c>). <c>uniform</c> (the default, CI's):
/// every row at a uniform time between 30 s and the settle span. <c>campaign</c>: as real campaigns report, most rows
/// (95%) within 30 s to 10 min and a few stragglers (5%) at a uniform time up to the settle span.
/// </summary>
public sealed record DaySettleProfile(string Name, TimeSpan MostWithin, double StragglerRatio)
{
    public static DaySettleProfile Uniform { get; } = new("uniform", TimeSpan.Zero, 0);

    public static DaySettleProfile Campaign { get; } = new("campaign", TimeSpan.FromMinutes(10), 0.05);

    public static DaySettleProfile Named(string? name) => name switch
    {
        null or "" or "uniform" => Uniform,
        "campaign" => Campaign,
        _ => throw new ArgumentException($"DAY_PROFILE must be 'uniform' or 'campaign', not '{name}'."),
    };

    /// <summary>Every row waiting at first, settling as the profile says within <paramref name="settle"/>.</summary>
    public GenerateSpec Spec(int count, TimeSpan settle, int seed)
    {
        var span = (int)settle.TotalSeconds;
        return StragglerRatio == 0
            ? new GenerateSpec { Count = count, WaitingRatio = 1.0, SettleAfterSecondsMin = 30, SettleAfterSecondsMax = span, Seed = seed }
            : new GenerateSpec
            {
                Count = count, WaitingRatio = 1.0, SettleAfterSecondsMin = 30, SettleAfterSecondsMax = (int)MostWithin.TotalSeconds,
                StragglerRatio = StragglerRatio, StragglerSettleAfterSecondsMax = span, Seed = seed,
            };
    }
}
