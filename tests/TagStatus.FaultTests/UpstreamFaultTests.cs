using SmsPartner.Simulator;
using TagStatus.Core.Domain;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.FaultTests.Support;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.FaultTests;

/// <summary>
/// SMS Partner failing at the first, a middle and the last page of a tag's pass, every way the simulator can fail (each
/// fault outlasts the client's retries): nothing stored is lost or undone, the tag is not complete, and the next attempt
/// after the upstream recovers completes it with the simulator's truth.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class UpstreamFaultTests(AzuriteFixture azurite)
{
    private const int Recipients = 100;
    private const int PageSize = 20; // five pages
    private static readonly Tag Campaign = Tag.Parse("midpaging");

    public static TheoryData<string, int> Faults()
    {
        var data = new TheoryData<string, int>();
        foreach (var fault in FaultsByName.Keys)
        {
            foreach (var page in new[] { 1, 3, 5 })
            {
                data.Add(fault, page);
            }
        }

        return data;
    }

    private static readonly Dictionary<string, Func<int, FaultSpec>> FaultsByName = new()
    {
        ["5xx"] = page => new FaultSpec { Kind = FaultKind.ServerError, HttpStatus = 503 },
        ["timeout"] = page => new FaultSpec { Kind = FaultKind.Slow, DelayMs = 1500 },
        ["429 with Retry-After"] = page => new FaultSpec { Kind = FaultKind.TooManyRequests, RetryAfterSeconds = 1 },
        ["malformed JSON"] = page => new FaultSpec { Kind = FaultKind.MalformedJson },
        ["truncated body"] = page => new FaultSpec { Kind = FaultKind.Truncated },
        ["success:false code 10"] = page => new FaultSpec { Kind = FaultKind.Failure, Code = 10 },
        ["dropped connection"] = page => new FaultSpec { Kind = FaultKind.Dropped },
    };

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task A_fault_mid_paging_loses_nothing_completes_nothing_and_the_next_attempt_recovers(string fault, int page)
    {
        var apiKey = SecretScan.NewSecret("smspartner");
        var signingKey = SecretScan.NewSecret("signing");
        await using var app = await AppHarness.StartAsync(
            azurite,
            settings =>
            {
                settings["Callbacks:SigningKey"] = signingKey;
                // Short timeouts so a timeout fault costs seconds, not the production 10 s and 45 s.
                settings["SmsPartner:AttemptTimeout"] = "00:00:00.500";
                settings["SmsPartner:TotalTimeout"] = "00:00:03";
            },
            new SimulatorOptions { ApiKey = apiKey, PageSize = PageSize });
        var simulator = app.Simulator.State;
        var store = app.Get<ITagStore>();

        // Half final already, half waiting that settles within two minutes (a fifth of them as not delivered).
        simulator.SeedTag(Campaign.Value, Enumerable.Range(1, Recipients).Select(i => new RecipientSeed
        {
            PhoneNumber = $"+336{i:D8}",
            Status = i % 2 == 0 ? SmsStatuses.Delivered : SmsStatuses.Waiting,
            SettleAfterSeconds = i % 2 == 0 ? null : 30 + i,
            FinalStatus = i % 5 == 1 ? SmsStatuses.NotDelivered : SmsStatuses.Delivered,
        }));
        var registered = await app.Get<TrackingService>().RegisterAsync(Campaign, default);
        Assert.Equal(TagState.Pending, registered.State);
        var before = Invariants.FinalsByPhone(await Invariants.RowsAsync(store, Campaign));
        Assert.Equal(Recipients / 2, before.Values.Sum());

        // Everything settles upstream, but the page fails on every attempt of this refresh.
        var spec = FaultsByName[fault](page);
        spec.Tag = Campaign.Value;
        spec.Page = page;
        spec.Count = 1000;
        simulator.QueueFault(spec);
        app.Advance(TimeSpan.FromMinutes(3));
        var failing = await app.RunTimerAndQueuesAsync();

        Assert.Equal([QueuedRefreshOutcome.Failed], failing.Refreshes);
        var afterFault = await Invariants.AssertCountsEqualRowsAsync(store, Campaign);
        Assert.Equal(TagState.Pending, afterFault.State);
        Assert.Null(afterFault.CompletedAt);
        Assert.Equal(1, afterFault.FailedRefreshes);
        Assert.Equal(Recipients, afterFault.Counts.Total);
        Invariants.AssertNothingLostNorUndone(Campaign.Value, before, await Invariants.RowsAsync(store, Campaign));

        // The upstream recovers: the tag's back-off brings it round again and one full read completes it.
        simulator.ClearFaults();
        for (var minute = 0; minute < 30 && (await store.GetSummaryAsync(Campaign, default))!.Summary.State == TagState.Pending; minute++)
        {
            app.Advance(TimeSpan.FromMinutes(1));
            await app.RunTimerAndQueuesAsync();
        }

        var recovered = await Invariants.AssertCountsEqualRowsAsync(store, Campaign);
        Assert.Equal(TagState.Complete, recovered.State);
        Assert.Equal(0, recovered.FailedRefreshes);
        var rows = await Invariants.RowsAsync(store, Campaign);
        Invariants.AssertEqualsTruth(Campaign.Value, simulator.GetRows(Campaign.Value)!, rows);
        Invariants.AssertNothingLostNorUndone(Campaign.Value, before, rows);
        SecretScan.AssertClean([apiKey, signingKey], app.AllLogText());
    }
}
