using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using SmsPartner.Simulator;
using TagStatus.FaultTests.Support;
using TagStatus.IntegrationTests.Support;
using Xunit.Abstractions;

namespace TagStatus.FaultTests;

/// <summary>
/// The worker killed with SIGKILL while a queue refresh is in flight, and again while a callback is being delivered: the
/// LocalHost process (the timer and both queue triggers over Azurite's real queues), started again; and, where
/// FUNCTIONS_HOST_RUNNER names the real Azure Functions host, the app's .NET worker under it, which the host replaces.
/// The message comes back, the refresh completes, the event arrives again with the same id and bytes, and nothing is
/// stored twice.
/// </summary>
public sealed class WorkerCrashTests(ITestOutputHelper output)
{
    public static TheoryData<string> Hosts() =>
        FunctionsHostProcess.Runner is null ? new TheoryData<string>("localhost") : new TheoryData<string>("localhost", "functions-host");

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task A_worker_killed_mid_refresh_and_mid_delivery_finishes_both(string hostName)
    {
        var apiKey = SecretScan.NewSecret("smspartner");
        var signingKey = SecretScan.NewSecret("signing");
        var functionKey = SecretScan.NewSecret("function");
        await using var azurite = await KillableAzurite.StartAsync();
        await using var simulator = await SimulatorApp.StartAsync(new SimulatorOptions { ApiKey = apiKey });
        await using var receiver = await CallbackReceiver.StartAsync();
        var settings = AppSettings.For(azurite, simulator, apiKey, signingKey, functionKey);
        settings["Callbacks__AllowInsecureUrls"] = "true";
        settings["Callbacks__Timeout"] = "00:00:02";
        settings["Callbacks__FirstRetryDelay"] = "00:00:01";
        settings["RefreshSchedule"] = "*/2 * * * * *";
        settings["Tracking__Backoff__0__UpTo"] = "1.00:00:00";
        settings["Tracking__Backoff__0__Every"] = "00:00:02";
        settings["Tracking__RefreshLease"] = "00:00:30";
        settings["LocalHost__QueueLease"] = "00:00:05";
        await using var host = await CrashableWorker.StartAsync(hostName, azurite.ConnectionString, functionKey, settings);
        using var api = host.CreateClient(functionKey);
        var bodies = new List<string>();

        // 1. Killed while a queue refresh waits on SMS Partner.
        const string refreshed = "workerkill";
        simulator.State.GenerateTag(refreshed, new GenerateSpec { Count = 200, WaitingRatio = 1.0, SettleAfterSecondsMin = 5, SettleAfterSecondsMax = 10, Seed = 7 });
        Assert.Equal(HttpStatusCode.Accepted, (await api.PostAsJsonAsync("api/tags", new { tag = refreshed })).StatusCode);
        var callsBefore = simulator.State.StatusRequestsFor(refreshed);
        simulator.State.QueueFault(new FaultSpec { Kind = FaultKind.Slow, DelayMs = 60_000, Count = 1000, Tag = refreshed });
        await WaitUntilAsync(() => simulator.State.StatusRequestsFor(refreshed) > callsBefore, "a queue refresh of the tag to start");
        var killedAt = Stopwatch.StartNew();
        await host.KillWorkerAsync(() =>
        {
            simulator.State.ClearFaults();
            simulator.State.AdvanceClock(TimeSpan.FromMinutes(1)); // everything has settled upstream meanwhile
        });
        var settled = await WaitForCompletionAsync(api, refreshed, bodies);
        output.WriteLine($"{hostName} refresh: complete {killedAt.Elapsed.TotalSeconds:F0} s after the kill");
        AssertStoredOnce(settled, simulator.State.GetRows(refreshed)!);

        // 2. Killed while a callback is being delivered: the receiver holds the POST, the worker waits for its answer.
        const string delivered = "hookkill";
        simulator.State.GenerateTag(delivered, new GenerateSpec { Count = 20, WaitingRatio = 1.0, SettleAfterSecondsMin = 3, SettleAfterSecondsMax = 4, Seed = 8 });
        receiver.Hold = TimeSpan.FromMinutes(1);
        var subscribed = await api.PostAsJsonAsync($"api/tags/{delivered}/subscriptions", new { callbackUrl = receiver.Url.AbsoluteUri });
        Assert.Equal(HttpStatusCode.Created, subscribed.StatusCode);
        var subscription = await subscribed.Content.ReadAsStringAsync();
        var secret = (string)JsonNode.Parse(subscription)!["secret"]!;
        await WaitUntilAsync(() => !receiver.Received.IsEmpty, "the first delivery to reach the receiver");
        var interrupted = receiver.Received.First().EventId;
        killedAt.Restart();
        await host.KillWorkerAsync(() => receiver.Hold = TimeSpan.Zero);
        await WaitUntilAsync(() => receiver.Received.Count(r => r.EventId == interrupted) >= 2, "the interrupted delivery to come again", TimeSpan.FromSeconds(120));
        output.WriteLine($"{hostName} callback: delivered again {killedAt.Elapsed.TotalSeconds:F0} s after the kill");
        var settledHook = await WaitForCompletionAsync(api, delivered, bodies);
        await WaitUntilAsync(() => receiver.Received.Any(r => (string?)JsonNode.Parse(r.Body)!["type"] == "tag.completed"), "tag.completed to arrive");
        await Task.Delay(TimeSpan.FromSeconds(3)); // anything still to come (a duplicate) comes now

        // Every event (the interrupted one, and a tag.changed before tag.completed when the read saw it half settled):
        // the same bytes and a valid signature on every attempt, and one completion.
        foreach (var attempts in receiver.Received.GroupBy(r => r.EventId))
        {
            var first = attempts.First();
            Assert.All(attempts, r =>
            {
                Assert.Equal(first.Body, r.Body);
                Assert.True(r.IsSignedWith(secret), $"event {r.EventId}: no valid Standard Webhooks signature");
            });
        }

        Assert.Single(receiver.Received.Where(r => (string?)JsonNode.Parse(r.Body)!["type"] == "tag.completed").Select(r => r.EventId).Distinct());
        AssertStoredOnce(settledHook, simulator.State.GetRows(delivered)!);

        // The subscription's own secret is in its answer by design (shown once): it must appear nowhere else.
        SecretScan.AssertClean([apiKey, signingKey, functionKey, secret], [host.Output, .. bodies]);
    }

    /// <summary>Polls <c>/completion</c> until 200, then reads the whole tag.</summary>
    private static async Task<JsonNode> WaitForCompletionAsync(HttpClient api, string tag, List<string> bodies)
    {
        await WaitUntilAsync(async () => (await api.GetAsync($"api/tags/{tag}/completion")).StatusCode == HttpStatusCode.OK, $"{tag} to complete");
        var body = await api.GetStringAsync($"api/tags/{tag}?pageSize=1000");
        bodies.Add(body);
        return JsonNode.Parse(body)!;
    }

    /// <summary>Every message once (no row twice), counts equal to the rows listed and to the simulator's truth.</summary>
    private static void AssertStoredOnce(JsonNode tag, IReadOnlyList<StatusRow> truth)
    {
        var recipients = tag["recipients"]!.AsArray();
        Assert.Equal("complete", (string?)tag["state"]);
        Assert.Equal(truth.Count, recipients.Count);
        Assert.Equal(truth.Count, recipients.Select(r => (string)r!["phoneNumber"]!).Distinct().Count());
        Assert.Equal(truth.Count, (int)tag["counts"]!["total"]!);
        Assert.Equal(truth.Count(r => r.Status == SmsStatuses.Delivered), (int)tag["counts"]!["delivered"]!);
        Assert.Equal(recipients.Count(r => (string)r!["status"]! == "delivered"), (int)tag["counts"]!["delivered"]!);
        Assert.Equal(truth.Count(r => r.Status == SmsStatuses.NotDelivered), (int)tag["counts"]!["notDelivered"]!);
    }

    private static Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        WaitUntilAsync(() => Task.FromResult(condition()), what, timeout);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(90)), $"waited {deadline.Elapsed.TotalSeconds:F0} s for {what}");
            await Task.Delay(250);
        }
    }
}
