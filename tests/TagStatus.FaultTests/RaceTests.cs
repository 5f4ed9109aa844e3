using System.Text.Json.Nodes;
using SmsPartner.Simulator;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using TagStatus.Core.Queues;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.FaultTests.Support;
using TagStatus.IntegrationTests.Support;
using Xunit.Abstractions;

namespace TagStatus.FaultTests;

/// <summary>
/// A <c>maxAge=0</c> lookup, a queue refresh and a timer run (with the refreshes it queues) on the same tag at once, 100
/// rounds while the tag's statuses settle: every round leaves counts equal to rows, and subscribers get one event per
/// state change, never two for the same one.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RaceTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private const int Rounds = 100;
    private static readonly Tag Campaign = Tag.Parse("raced");

    [Fact]
    public async Task A_lookup_a_queue_refresh_and_a_timer_run_at_once_stay_consistent_for_100_rounds()
    {
        var apiKey = SecretScan.NewSecret("smspartner");
        var signingKey = SecretScan.NewSecret("signing");
        await using var receiver = await CallbackReceiver.StartAsync();
        await using var app = await AppHarness.StartAsync(
            azurite,
            settings =>
            {
                settings["Callbacks:SigningKey"] = signingKey;
                settings["Callbacks:FirstRetryDelay"] = "00:00:00";
                // Due every minute for the whole run, so the timer and the queue have work each round.
                settings["Tracking:Backoff:0:UpTo"] = "1.00:00:00";
                settings["Tracking:Backoff:0:Every"] = "00:01:00";
            },
            new SimulatorOptions { ApiKey = apiKey });
        var simulator = app.Simulator.State;
        var store = app.Get<ITagStore>();
        // 150 messages settling over the 100 minutes of the run: most rounds move the counts.
        simulator.GenerateTag(Campaign.Value, new GenerateSpec
        {
            Count = 150, WaitingRatio = 1.0, NotDeliveredRatio = 0.2, SettleAfterSecondsMin = 30, SettleAfterSecondsMax = (Rounds - 5) * 60, Seed = 3,
        });
        Assert.IsType<SubscribeResult.Created>(await app.Get<SubscriptionService>().SubscribeAsync(Campaign, new(receiver.Url.AbsoluteUri), default));

        var bodies = new List<string>();
        var statuses = new List<int>();
        for (var round = 0; round < Rounds; round++)
        {
            app.Advance(TimeSpan.FromMinutes(1));
            var dueAt = (await store.GetSummaryAsync(Campaign, default))!.Summary.NextRefreshAt ?? app.Clock.GetUtcNow();
            var lookup = Lookups.GetAsync(app, Campaign.Value, "?maxAge=0&pageSize=1");
            var queued = app.Get<RefreshQueueProcessor>().ProcessAsync(new RefreshMessage(Campaign.Value, dueAt), default);
            var timer = Task.Run(async () =>
            {
                await app.Get<RefreshRunner>().RunAsync(default);
                foreach (var message in app.Queue.TakeRefreshes())
                {
                    await app.Get<RefreshQueueProcessor>().ProcessAsync(message, default);
                }
            });
            await Task.WhenAll(lookup, queued, timer);
            statuses.Add((await lookup).Status);
            bodies.Add((await lookup).Body);
            await Invariants.AssertCountsEqualRowsAsync(store, Campaign);
            await app.DeliverQueuedAsync();
        }

        // Conflicts the race lost are retried on the tag's back-off: a few more quiet minutes settle it.
        for (var minute = 0; minute < 10 && (await store.GetSummaryAsync(Campaign, default))!.Summary.State == TagState.Pending; minute++)
        {
            app.Advance(TimeSpan.FromMinutes(1));
            await app.RunTimerAndQueuesAsync();
        }

        var summary = await Invariants.AssertCountsEqualRowsAsync(store, Campaign);
        Assert.Equal(TagState.Complete, summary.State);
        Invariants.AssertEqualsTruth(Campaign.Value, simulator.GetRows(Campaign.Value)!, await Invariants.RowsAsync(store, Campaign));
        Assert.All(statuses, status => Assert.Equal(200, status));

        var events = receiver.Received.Select(r => JsonNode.Parse(r.Body)!).ToList();
        Assert.Equal(events.Count, events.Select(e => (string)e["id"]!).Distinct().Count());
        // One event per state change: no two events for the same counts, and the finals only ever grow along them.
        var changes = events.Select(e => ((string)e["type"]!, e["data"]!["counts"]!.ToJsonString())).ToList();
        Assert.Equal(changes.Count, changes.Distinct().Count());
        var finals = events.Select(e => (int)e["data"]!["counts"]!["delivered"]! + (int)e["data"]!["counts"]!["notDelivered"]!).ToList();
        Assert.Equal(finals.Count, finals.Distinct().Count());
        Assert.Single(events, e => (string)e["type"]! == TagEvent.Completed);
        Assert.InRange(events.Count, 10, Rounds + 1);
        output.WriteLine($"{Rounds} rounds, {events.Count} events ({events.Count(e => (string)e["type"]! == TagEvent.Changed)} changed, 1 completed)");
        SecretScan.AssertClean([apiKey, signingKey], [app.AllLogText(), .. bodies]);
    }
}
