namespace SmsPartner.Simulator;

/// <summary>The demo campaign seeded by <c>--Simulator:Demo=true</c>.</summary>
public static class DemoSeed
{
    public const string DemoTag = "demo";

    public const string DocumentedTag = "montag";

    /// <summary>25 recipients, all Waiting, settling between 30 and 150 s after start; about 1 in 5 ends "Not delivered".</summary>
    public static GenerateSpec DemoCampaign => new()
    {
        Count = 25,
        WaitingRatio = 1.0,
        NotDeliveredRatio = 0.2,
        SettleAfterSecondsMin = 30,
        SettleAfterSecondsMax = 150,
        Seed = 2018,
    };

    /// <summary>The two rows of the provider's documented example.</summary>
    public static IReadOnlyList<RecipientSeed> DocumentedExample =>
    [
        new() { PhoneNumber = "+336XXXXXXX1", Status = SmsStatuses.Delivered, Date = 1517989111 },
        new() { PhoneNumber = "+336XXXXXXX2", Status = SmsStatuses.Delivered, Date = 1517989101 },
    ];

    public static void Apply(SimulatorState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.GenerateTag(DemoTag, DemoCampaign);
        state.SeedTag(DocumentedTag, DocumentedExample);
    }
}
