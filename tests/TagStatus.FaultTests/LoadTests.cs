using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using SmsPartner.Simulator;
using TagStatus.FaultTests.Support;
using TagStatus.IntegrationTests.Support;
using Xunit.Abstractions;

namespace TagStatus.FaultTests;

/// <summary>
/// 1,000 lookups from 32 concurrent callers over 100 tags, through the LocalHost process over HTTP: a third forcing a
/// live read (<c>maxAge=0</c>), the rest happy with stored data up to a minute old. Every answer is a 200; SMS Partner
/// never sees more than the shared budget allows. Latency is printed, not asserted (figures: README, Reliability).
/// </summary>
public sealed class LoadTests(ITestOutputHelper output)
{
    private const int Tags = 100;
    private const int Lookups = 1000;
    private const int Callers = 32;
    private const int RequestsPerSecond = 50;

    [Fact]
    public async Task A_thousand_lookups_from_32_callers_over_100_tags_all_answer_200_within_the_upstream_budget()
    {
        var apiKey = SecretScan.NewSecret("smspartner");
        var signingKey = SecretScan.NewSecret("signing");
        var functionKey = SecretScan.NewSecret("function");
        await using var azurite = await KillableAzurite.StartAsync();
        // 200 rows a page: one call a read, so the run takes seconds, not the minute 20-row pages would.
        await using var simulator = await SimulatorApp.StartAsync(new SimulatorOptions { ApiKey = apiKey, PageSize = 200 });
        var settings = AppSettings.For(azurite, simulator, apiKey, signingKey, functionKey);
        settings["SmsPartner__RequestsPerSecond"] = RequestsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var host = await LocalHostProcess.StartAsync(settings);
        for (var i = 0; i < Tags; i++)
        {
            simulator.State.GenerateTag($"load{i:D3}", new GenerateSpec { Count = 5 + (i * 7 % 200), WaitingRatio = 0.5, SettleAfterSecondsMin = 5, SettleAfterSecondsMax = 120, Seed = i });
        }

        using var api = host.CreateClient(functionKey);
        var latencies = new ConcurrentBag<double>();
        var failures = new ConcurrentBag<string>();
        var next = -1;
        var started = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => Task.Run(async () =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < Lookups)
            {
                var query = n % 3 == 0 ? "?maxAge=0" : "?maxAge=60";
                var watch = Stopwatch.StartNew();
                using var response = await api.GetAsync($"api/tags/load{n * 37 % Tags:D3}{query}");
                var body = await response.Content.ReadAsStringAsync();
                latencies.Add(watch.Elapsed.TotalMilliseconds);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Add($"{(int)response.StatusCode} {body}");
                }
            }
        })));
        var elapsed = started.Elapsed;

        Assert.Empty(failures);
        Assert.Equal(Lookups, latencies.Count);
        var calls = simulator.State.GetCalls().Select(c => c.At).Order().ToList();
        var busiestSecond = calls.Select((at, i) => calls.Skip(i).TakeWhile(t => t - at < TimeSpan.FromSeconds(1)).Count()).DefaultIfEmpty().Max();
        // The budget's own bound (README, "One call budget"): at most rate x (W + 1 s) calls in any W seconds.
        Assert.InRange(busiestSecond, 1, RequestsPerSecond * 2);
        var sorted = latencies.Order().ToList();
        output.WriteLine($"{Lookups} lookups, {Callers} callers, {Tags} tags in {elapsed.TotalSeconds:F1} s: 0 errors, " +
            $"p50 {sorted[sorted.Count / 2]:F0} ms, p99 {sorted[(int)(sorted.Count * 0.99)]:F0} ms; upstream calls {calls.Count}, busiest second {busiestSecond} (budget {RequestsPerSecond}/s)");
        SecretScan.AssertClean([apiKey, signingKey, functionKey], host.Output);
    }
}
