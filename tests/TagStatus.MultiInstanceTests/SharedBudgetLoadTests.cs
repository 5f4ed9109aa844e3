using System.Text.Json;
using SmsPartner.Simulator;
using TagStatus.IntegrationTests.Support;
using Xunit.Abstractions;

namespace TagStatus.MultiInstanceTests;

/// <summary>
/// Issue 13's proof of the one upstream budget: four processes sharing one API key budget of 5 calls/s for 60 s, each
/// pushing as hard as it can; the simulator counts no 10 s window above 5.5 calls/s and an average of at least 4.5.
/// The figures are written to .artifacts/budget-load/result.json.
/// </summary>
public sealed class SharedBudgetLoadTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const int Processes = 4;
    private const int WorkersPerProcess = 6;
    private const int RequestsPerSecond = 5;
    private static readonly TimeSpan Load = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Four_processes_share_one_budget_of_5_calls_per_second()
    {
        await using var simulator = await SimulatorApp.StartAsync(new SimulatorOptions { PageSize = 20 });
        simulator.State.GenerateTag("load", new GenerateSpec { Count = 60, WaitingRatio = 0, Seed = 13 }); // 3 pages a read
        string[] settings =
        [
            .. LoadDriverProcess.AppSettings(azurite, simulator),
            $"--SmsPartner:RequestsPerSecond={RequestsPerSecond}",
            "--Load:Tag=load",
            $"--Load:Workers={WorkersPerProcess}",
            $"--Load:Seconds={Load.TotalSeconds}",
        ];

        var drivers = Enumerable.Range(0, Processes).Select(_ => LoadDriverProcess.Start(settings)).ToList();
        try
        {
            await Task.WhenAll(drivers.Select(d => d.ReadyAsync(TimeSpan.FromSeconds(90))));
            simulator.State.ResetStats();
            var pauseBefore = GC.GetTotalPauseDuration();
            using var stalls = new StallWatch();
            await Task.WhenAll(drivers.Select(d => d.GoAsync()));
            var summaries = await Task.WhenAll(drivers.Select(d => d.SummaryAsync(Load + TimeSpan.FromSeconds(60))));
            var receiverStalls = stalls.Stop();
            var gcPause = GC.GetTotalPauseDuration() - pauseBefore;

            var calls = simulator.State.GetCalls().Select(c => c.At).Order().ToList();
            Assert.NotEmpty(calls);
            var first = calls[0];
            var busiestStart = calls.MaxBy(start => calls.Count(t => t >= start && t < start + Window));
            var busiest = calls.Count(t => t >= busiestStart && t < busiestStart + Window);
            var average = calls.Count(t => t < first + Load) / Load.TotalSeconds;
            var result = new
            {
                processes = Processes,
                workersPerProcess = WorkersPerProcess,
                requestsPerSecond = RequestsPerSecond,
                calls = calls.Count,
                spanSeconds = (calls[^1] - first).TotalSeconds,
                maxCallsIn10Seconds = busiest,
                max10SecondRate = busiest / Window.TotalSeconds,
                busiestWindowStartsAfterSeconds = (busiestStart - first).TotalSeconds,
                callsPerSecond = calls.GroupBy(t => (int)(t - first).TotalSeconds).Select(g => g.Count()),
                averageRateOver60Seconds = average,
                pagesByProcess = summaries.Select(s => s.Pages),
                failuresByProcess = summaries.Select(s => s.Failures),
                callOffsetsMs = calls.Select(t => Math.Round((t - first).TotalMilliseconds)),
                // This process (the simulator's) as a timer saw it: late ticks over 100 ms, and its own GC pauses.
                receiverStallsMs = receiverStalls,
                receiverGcPauseMs = Math.Round(gcPause.TotalMilliseconds),
            };
            var json = JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true });
            output.WriteLine(json);
            var folder = Directory.CreateDirectory(Path.Combine(RepoPaths.Root, ".artifacts", "budget-load"));
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "result.json"), json);

            Assert.True(busiest <= 55, $"{busiest} calls in one 10 s window ({busiest / 10.0:F1}/s): {json}");
            Assert.True(average >= 4.5, $"average {average:F2} calls/s over 60 s: {json}");
            Assert.All(summaries, s => Assert.True(s.Pages > 0, $"a process read no page: {json}"));
            Assert.True(calls.Count >= summaries.Sum(s => s.Pages), $"the simulator recorded fewer calls than the pages read: {json}");
        }
        finally
        {
            LoadDriverProcess.DisposeAll(drivers);
        }
    }
}

/// <summary>A 10 ms tick in the test process: how late it ran, when over 100 ms (the receiver off the CPU or starved).</summary>
internal sealed class StallWatch : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(double AtMs, double LateMs)> _stalls = [];
    private readonly Task _loop;

    public StallWatch() => _loop = Task.Run(async () =>
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!_stop.IsCancellationRequested)
        {
            var before = clock.Elapsed;
            await Task.Delay(10, CancellationToken.None);
            var late = (clock.Elapsed - before).TotalMilliseconds - 10;
            if (late > 100)
            {
                lock (_stalls)
                {
                    _stalls.Add((Math.Round(before.TotalMilliseconds), Math.Round(late)));
                }
            }
        }
    });

    public IReadOnlyList<double[]> Stop()
    {
        _stop.Cancel();
        _loop.Wait();
        lock (_stalls)
        {
            return [.. _stalls.Select(s => new[] { s.AtMs, s.LateMs })];
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }
}
