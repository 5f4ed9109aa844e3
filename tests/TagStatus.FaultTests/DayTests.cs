using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using SmsPartner.Simulator;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.FaultTests.Support;
using TagStatus.IntegrationTests.Support;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace TagStatus.FaultTests;

/// <summary>
/// A day of traffic, compressed: tracked tags of 5 to N recipients whose statuses settle over hours of the simulator's
/// clock (a few never do), run minute by minute through the timer and the refresh and callbacks queues, with lookups
/// every minute, until every tag settles. Every tag ends complete or expired with the simulator's truth, every
/// subscriber gets its final event, and no simulated minute sends SMS Partner more calls than the budget's minute
/// (5 calls/s). CI runs 60 tags of up to 300 settling within 45 min; bench/day.sh runs a bigger day (DAY_TAGS,
/// DAY_MAX_RECIPIENTS, DAY_SETTLE_MINUTES, DAY_PROFILE, DAY_SEND_MINUTES, DAY_CONCURRENCY), writing a progress line as
/// it goes (<see cref="DayProgress"/>); its figures are in bench/README.md.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DayTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    /// <summary>SMS Partner's budget over a minute: 5 calls/s.</summary>
    private const int CallsPerMinute = 5 * 60;

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), CultureInfo.InvariantCulture, out var value) ? value : fallback;

    [Fact]
    public async Task A_compressed_day_settles_every_tag_with_the_truth_loses_no_callback_and_keeps_to_the_budget()
    {
        var tagCount = Setting("DAY_TAGS", 60);
        var maxRecipients = Setting("DAY_MAX_RECIPIENTS", 300);
        var settle = TimeSpan.FromMinutes(Setting("DAY_SETTLE_MINUTES", 45));
        var profile = DaySettleProfile.Named(Environment.GetEnvironmentVariable("DAY_PROFILE"));
        // Refresh messages handled at once, as the queue trigger takes a batch (host.json batchSize 16); CI keeps 1.
        var concurrency = Setting("DAY_CONCURRENCY", 1);
        var storage = new RecordingPolicy();
        // Azurite keeps a table in one JavaScript collection: at a million rows, on a box shared at load 30, a request can
        // take longer than the app's 10 s storage timeout (tuned for Azure). Big runs may give it longer; CI keeps the app's.
        var storageTimeout = Setting("DAY_STORAGE_TIMEOUT_SECONDS", 0);
        var apiKey = SecretScan.NewSecret("smspartner");
        var signingKey = SecretScan.NewSecret("signing");
        await using var receiver = await CallbackReceiver.StartAsync();
        await using var app = await AppHarness.StartAsync(
            azurite,
            settings =>
            {
                settings["Callbacks:SigningKey"] = signingKey;
                settings["Callbacks:FirstRetryDelay"] = "00:00:00";
                // The day compressed: the window closes half an hour after the last status settles (+ half an hour of
                // margin) instead of 48 h (+6 h); the budget is judged per simulated minute below, so the real-time
                // bucket is left wide open.
                settings["Tracking:Window"] = (settle + TimeSpan.FromMinutes(30)).ToString("c", CultureInfo.InvariantCulture);
                settings["Tracking:Margin"] = "00:30:00";
                settings["SmsPartner:MaxPages"] = "10000";
            },
            new SimulatorOptions { ApiKey = apiKey, PageSize = 1000 },
            storage,
            services: services =>
            {
                if (storageTimeout > 0)
                {
                    services.PostConfigureAll<TableClientOptions>(options => options.Retry.NetworkTimeout = TimeSpan.FromSeconds(storageTimeout));
                }
            });
        var simulator = app.Simulator.State;
        var store = app.Get<ITagStore>();

        // Sizes log-uniform from 5 to the maximum; one tag in fifty keeps a message waiting for ever (it must expire).
        // Campaigns go out over the first DAY_SEND_MINUTES (0, CI's: all at the start), each read once when registered.
        var sendMinutes = Setting("DAY_SEND_MINUTES", 0);
        var random = new Random(2026);
        var sizes = Enumerable.Range(0, tagCount).Select(_ => (int)Math.Round(5 * Math.Pow(maxRecipients / 5.0, random.NextDouble()))).ToArray();
        var tags = new List<Tag>();
        var subscribed = new HashSet<string>(StringComparer.Ordinal);
        var pending = new HashSet<Tag>();
        using var progress = new DayProgress(output, storage, tagCount);
        var upstreamCalls = simulator.StatusRequests;
        progress.StartHeartbeat(() => simulator.StatusRequests - upstreamCalls);
        var busiestMinute = 0L;
        var minutes = 0;
        var storageRetries = 0;

        async Task SendDueCampaignsAsync()
        {
            while (tags.Count < tagCount && (long)tags.Count * sendMinutes / tagCount <= minutes)
            {
                var i = tags.Count;
                var tag = Tag.Parse($"day{i:D4}");
                simulator.GenerateTag(tag.Value, profile.Spec(sizes[i], settle, seed: i));
                if (i % 50 == 49)
                {
                    simulator.SeedTag(tag.Value, [new RecipientSeed { PhoneNumber = "+33699999999", Status = SmsStatuses.Waiting }]);
                }

                tags.Add(tag);
                pending.Add(tag);
                if (i % 10 == 0)
                {
                    Assert.IsType<SubscribeResult.Created>(await app.Get<SubscriptionService>().SubscribeAsync(tag, new(receiver.Url.AbsoluteUri), default));
                    subscribed.Add(tag.Value);
                }
                else
                {
                    await app.Get<TrackingService>().RegisterAsync(tag, default);
                }

                progress.RowsStored[tag.Value] = (await store.GetSummaryAsync(tag, default))!.Summary.Counts.Total;
                if (progress.IsWallDue)
                {
                    progress.Report(minutes, tags.Count, tags.Count - pending.Count, simulator.StatusRequests - upstreamCalls, busiestMinute, 0, app.Logs.Count);
                }
            }
        }

        await progress.TimeAsync(DayProgress.Sends, SendDueCampaignsAsync);
        var latencies = new List<double>();
        var oldestDueAges = new List<double>();
        while ((pending.Count > 0 || tags.Count < tagCount) && minutes < sendMinutes + settle.TotalMinutes + 180)
        {
            app.Advance(TimeSpan.FromMinutes(1));
            progress.Minute = ++minutes;
            var callsBefore = simulator.StatusRequests;
            await progress.TimeAsync(DayProgress.Sends, SendDueCampaignsAsync);
            await progress.TimeAsync(DayProgress.Timer, () => app.Get<RefreshRunner>().RunAsync(default));
            await progress.TimeAsync(DayProgress.Refreshes, () => Parallel.ForEachAsync(
                app.Queue.TakeRefreshes(), new ParallelOptions { MaxDegreeOfParallelism = concurrency },
                async (message, _) =>
                {
                    try
                    {
                        await app.Get<RefreshQueueProcessor>().ProcessAsync(message, default);
                    }
                    catch (StoreUnavailableException)
                    {
                        // What the queue trigger does with a message whose function threw: it comes back (next minute here).
                        Interlocked.Increment(ref storageRetries);
                        await app.Queue.EnqueueRefreshAsync(message, default);
                    }
                }));
            await progress.TimeAsync(DayProgress.Deliveries, app.DeliverQueuedAsync);
            await progress.TimeAsync(DayProgress.Lookups, async () =>
            {
                for (var l = 0; l < 5; l++)
                {
                    var watch = Stopwatch.StartNew();
                    var answer = await Lookups.GetAsync(app, tags[random.Next(tags.Count)].Value, "?maxAge=60&pageSize=10");
                    latencies.Add(watch.Elapsed.TotalMilliseconds);
                    Assert.Equal(200, answer.Status);
                }
            });

            busiestMinute = Math.Max(busiestMinute, simulator.StatusRequests - callsBefore);
            var oldest = await store.GetDueTagsAsync(app.Clock.GetUtcNow(), 1, default);
            oldestDueAges.Add(oldest.Count == 0 ? 0 : (app.Clock.GetUtcNow() - oldest[0].DueAt).TotalSeconds);
            var report = progress.IsDue(minutes);
            if (minutes % 10 == 0 || report)
            {
                await progress.TimeAsync(DayProgress.Checks, async () =>
                {
                    foreach (var tag in pending.ToList())
                    {
                        var summary = (await store.GetSummaryAsync(tag, default))!.Summary;
                        progress.RowsStored[tag.Value] = summary.Counts.Total;
                        if (summary.State.IsSettled())
                        {
                            pending.Remove(tag);
                        }
                    }
                });
            }

            if (report)
            {
                progress.Report(minutes, tags.Count, tags.Count - pending.Count, simulator.StatusRequests - upstreamCalls, busiestMinute, oldestDueAges[^1], app.Logs.Count);
            }
        }

        var wall = progress.Wall;
        Assert.Empty(pending);
        var complete = 0;
        foreach (var tag in tags)
        {
            // The rows are read once for both checks: at full size each read of a tag's rows is a scan in Azurite.
            var summary = (await store.GetSummaryAsync(tag, default))!.Summary;
            var rows = await Invariants.RowsAsync(store, tag);
            Assert.True(TagCounts.Of(rows) == summary.Counts, $"{tag.Value}: summary counts {summary.Counts} but rows say {TagCounts.Of(rows)}");
            Assert.True(summary.State.IsSettled(), $"{tag.Value} is {summary.State}");
            complete += summary.State == TagState.Complete ? 1 : 0;
            Invariants.AssertEqualsTruth(tag.Value, simulator.GetRows(tag.Value)!, rows);
        }

        await app.DeliverQueuedAsync();
        var finals = receiver.Received.Select(r => JsonNode.Parse(r.Body)!)
            .Where(e => (string)e["type"]! is TagEvent.Completed or TagEvent.Expired)
            .GroupBy(e => (string)e["tag"]!).ToDictionary(g => g.Key, g => g.Select(e => (string)e["id"]!).Distinct().Count());
        Assert.Equal(subscribed.Order(), finals.Keys.Order());
        Assert.All(finals.Values, ids => Assert.Equal(1, ids));
        Assert.InRange(busiestMinute, 1, CallsPerMinute);
        Assert.Equal(tagCount - (tagCount / 50), complete);

        latencies.Sort();
        oldestDueAges.Sort();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"day: {tagCount} tags of 5..{maxRecipients} ({tags.Sum(t => simulator.GetRows(t.Value)!.Count)} recipients), profile {profile.Name} over {settle.TotalMinutes} min, concurrency {concurrency}, settled in {minutes} simulated minutes, " +
            $"{wall.TotalSeconds:F0} s wall; {complete} complete, {tagCount - complete} expired, counts = truth for all; " +
            $"{finals.Count}/{subscribed.Count} subscribers got one final event; {storageRetries} refresh messages retried after a storage timeout; upstream calls {simulator.StatusRequests - upstreamCalls}, busiest minute {busiestMinute} (budget {CallsPerMinute}); " +
            $"lookups {latencies.Count}: p50 {latencies[latencies.Count / 2]:F1} ms, p99 {latencies[(int)(latencies.Count * 0.99)]:F1} ms; " +
            $"oldest due age p50 {oldestDueAges[oldestDueAges.Count / 2]:F0} s, p99 {oldestDueAges[(int)(oldestDueAges.Count * 0.99)]:F0} s, max {oldestDueAges[^1]:F0} s"));
        SecretScan.AssertClean([apiKey, signingKey], app.AllLogText());
    }
}
