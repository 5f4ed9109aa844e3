using System.Collections.Concurrent;
using System.Diagnostics;
using SmsPartner.Simulator;
using TagStatus.Core.Domain;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.FaultTests.Support;
using TagStatus.IntegrationTests.Support;
using Xunit.Abstractions;

namespace TagStatus.FaultTests;

/// <summary>
/// Azurite (on disk) killed with SIGKILL while refreshes write, three times, and started again on the same port over the
/// same files. Azurite itself keeps an acknowledged write only once it has flushed its file (every 5 s), so a kill rolls
/// storage back to a point in time up to 5 s old; what a completed refresh stored earlier than that must all be there.
/// </summary>
public sealed class StorageCrashTests(ITestOutputHelper output)
{
    private const int TagCount = 20;

    /// <summary>A refresh completed and what it had stored: the finals per number and the state, read right after.</summary>
    private sealed record Stored(Tag Tag, TagState State, IReadOnlyDictionary<string, int> Finals, long At);

    [Fact]
    public async Task Storage_killed_mid_write_loses_nothing_undoes_nothing_and_every_pending_tag_stays_due()
    {
        await using var azurite = await KillableAzurite.StartAsync();
        var apiKey = SecretScan.NewSecret("smspartner");
        var signingKey = SecretScan.NewSecret("signing");
        await using var app = await AppHarness.StartAsync(
            AzuriteFixture.Using(azurite.ConnectionString),
            settings =>
            {
                settings["Callbacks:SigningKey"] = signingKey;
                settings["Tracking:PagesPerRun"] = "100000";
            },
            new SimulatorOptions { ApiKey = apiKey });
        var simulator = app.Simulator.State;
        var store = app.Get<ITagStore>();
        var tags = Enumerable.Range(1, TagCount).Select(i => Tag.Parse($"crash{i:D2}")).ToList();
        for (var i = 0; i < TagCount; i++)
        {
            simulator.GenerateTag(tags[i].Value, new GenerateSpec
            {
                Count = 50 + (i * 10), WaitingRatio = 0.9, SettleAfterSecondsMin = 60, SettleAfterSecondsMax = 600, Seed = i,
            });
            await app.Get<TrackingService>().RegisterAsync(tags[i], default);
        }

        var stored = new ConcurrentQueue<Stored>();
        var storageErrors = 0;
        var exceptions = new ConcurrentBag<string>();
        using var gate = new SemaphoreSlim(1, 1);
        using var stop = new CancellationTokenSource();
        var refreshing = 0; // 1 while the worker processes refresh messages: the kills wait for it, to land mid-refresh

        // The worker: a minute of the host per round, a message that fails goes back on the queue (as a real one would).
        var worker = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await gate.WaitAsync();
                try
                {
                    app.Advance(TimeSpan.FromMinutes(1));
                    try
                    {
                        // A run that met dead storage logs it and counts it as a failure; the timer runs again next minute.
                        Interlocked.Add(ref storageErrors, (await app.Get<RefreshRunner>().RunAsync(default)).Failures);
                    }
                    catch (Exception e) when (!stop.IsCancellationRequested)
                    {
                        Interlocked.Increment(ref storageErrors);
                        exceptions.Add(e.ToString());
                    }

                    var messages = app.Queue.TakeRefreshes();
                    Volatile.Write(ref refreshing, messages.Count > 0 ? 1 : 0);
                    foreach (var message in messages)
                    {
                        try
                        {
                            if (await app.Get<RefreshQueueProcessor>().ProcessAsync(message, default) == QueuedRefreshOutcome.Refreshed)
                            {
                                var tag = Tag.Parse(message.Tag);
                                var summary = (await store.GetSummaryAsync(tag, default))!.Summary;
                                stored.Enqueue(new Stored(tag, summary.State, Invariants.FinalsByPhone(await Invariants.RowsAsync(store, tag)), Stopwatch.GetTimestamp()));
                            }
                        }
                        catch (Exception e)
                        {
                            Interlocked.Increment(ref storageErrors);
                            exceptions.Add(e.ToString());
                            await app.Queue.EnqueueRefreshAsync(message, default);
                        }
                    }
                }
                finally
                {
                    Volatile.Write(ref refreshing, 0);
                    gate.Release();
                }
            }
        });

        var random = new Random(17);
        var rolledBack = 0;
        for (var kill = 0; kill < 3; kill++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(5000, 8000)));
            // Mid-refresh, not between rounds of a timer that found nothing due: a kill there proves nothing.
            for (var waited = 0; Volatile.Read(ref refreshing) == 0 && waited < 10_000; waited += 10)
            {
                await Task.Delay(10);
            }

            azurite.Kill();
            var killedAt = Stopwatch.GetTimestamp();
            await Task.Delay(500); // refreshes keep trying against a dead storage
            await gate.WaitAsync();
            try
            {
                await azurite.RestartAsync();
                rolledBack += await AssertSurvivedAsync(store, tags, stored, killedAt);
                // What was stored too recently to be flushed may be gone: it proves nothing at the next kill.
                stored = new ConcurrentQueue<Stored>(stored.Where(s => IsDurable(s, killedAt)));
            }
            finally
            {
                gate.Release();
            }
        }

        // Then no more faults: every tag settles with the simulator's truth.
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromMinutes(2) && !await AllSettledAsync(store, tags))
        {
            await Task.Delay(200);
        }

        await stop.CancelAsync();
        await worker;

        foreach (var tag in tags)
        {
            var summary = await Invariants.AssertCountsEqualRowsAsync(store, tag);
            Assert.Equal(TagState.Complete, summary.State);
            var rows = await Invariants.RowsAsync(store, tag);
            Invariants.AssertEqualsTruth(tag.Value, simulator.GetRows(tag.Value)!, rows);
            foreach (var earlier in stored.Where(s => s.Tag == tag))
            {
                Invariants.AssertNothingLostNorUndone(tag.Value, earlier.Finals, rows);
            }
        }

        Assert.Equal(3, azurite.Kills);
        Assert.True(storageErrors > 0, "no refresh ever met the dead storage: the kills did not land mid-work");
        output.WriteLine($"kills {azurite.Kills}, refreshes stored {stored.Count}, calls that met dead storage {storageErrors}, " +
            $"refreshes younger than Azurite's flush rolled back {rolledBack}, tags {TagCount} all complete, rows lost 0");
        SecretScan.AssertClean([apiKey, signingKey], [app.AllLogText(), .. exceptions]);
    }

    /// <summary>
    /// Right after a restart: what refreshes stored before Azurite's last flush is all there, no complete tag went back,
    /// and every tracked pending tag has its schedule row. Returns how many later refreshes the kill rolled back.
    /// </summary>
    private async Task<int> AssertSurvivedAsync(ITagStore store, IReadOnlyList<Tag> tags, IEnumerable<Stored> stored, long killedAt)
    {
        var durable = stored.Where(s => IsDurable(s, killedAt)).ToList();
        var rolledBack = 0;
        var due = (await store.GetDueTagsAsync(DateTimeOffset.UtcNow.AddYears(10), 100_000, default)).Select(d => d.Tag).ToHashSet();
        var mismatched = 0;
        foreach (var tag in tags)
        {
            var summary = (await store.GetSummaryAsync(tag, default))!.Summary;
            var rows = await Invariants.RowsAsync(store, tag);
            foreach (var earlier in durable.Where(s => s.Tag == tag))
            {
                Invariants.AssertNothingLostNorUndone(tag.Value, earlier.Finals, rows);
                Assert.False(earlier.State == TagState.Complete && summary.State != TagState.Complete, $"{tag.Value} was complete and is {summary.State}");
            }

            if (summary is { Tracked: true, State: TagState.Pending })
            {
                Assert.True(due.Contains(tag), $"{tag.Value} is pending and tracked but has no schedule row");
            }

            if (TagCounts.Of(rows) != summary.Counts)
            {
                mismatched++;
            }

            var latest = stored.LastOrDefault(s => s.Tag == tag);
            if (latest is not null && Invariants.FinalsByPhone(rows).Values.Sum() < latest.Finals.Values.Sum())
            {
                rolledBack++;
            }
        }

        output.WriteLine($"after kill: {durable.Count} durable refreshes checked, {rolledBack} tags rolled back past their last refresh, {mismatched} summaries not yet equal to their rows");
        return rolledBack;
    }

    /// <summary>Stored long enough before the kill that Azurite had flushed it (with a margin for a slow flush).</summary>
    private static bool IsDurable(Stored stored, long killedAt) =>
        Stopwatch.GetElapsedTime(stored.At, killedAt) > KillableAzurite.FlushInterval + TimeSpan.FromSeconds(2);

    private static async Task<bool> AllSettledAsync(ITagStore store, IEnumerable<Tag> tags)
    {
        foreach (var tag in tags)
        {
            try
            {
                if ((await store.GetSummaryAsync(tag, default))?.Summary.State != TagState.Complete)
                {
                    return false;
                }
            }
            catch (StoreUnavailableException)
            {
                return false;
            }
        }

        return true;
    }
}
