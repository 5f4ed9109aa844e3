using SmsPartner.Simulator;
using TagStatus.IntegrationTests.Support;
using Xunit.Abstractions;

namespace TagStatus.MultiInstanceTests;

/// <summary>
/// Issue 14's proof of one upstream read per tag at a time, across instances: 200 concurrent lookups of one stale tag
/// from 4 processes (the real handler and DI in each) make exactly one read of the tag on the simulator, and every
/// caller gets an answer, none a 5xx.
/// </summary>
public sealed class StaleLookupLoadTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const int Processes = 4;
    private const int LookupsPerProcess = 50;
    private const string StaleTag = "stale-poll";

    [Fact]
    public async Task Two_hundred_stale_lookups_from_four_processes_read_the_tag_upstream_once()
    {
        await using var simulator = await SimulatorApp.StartAsync(new SimulatorOptions { PageSize = 100 });
        // One page: one read of the tag is one call of the status endpoint.
        simulator.State.SeedTag(StaleTag, Enumerable.Range(1, 40)
            .Select(i => new RecipientSeed { PhoneNumber = $"+336{i:D8}", Status = SmsStatuses.Waiting, SettleAfterSeconds = 100_000 })
            .ToList());
        string[] settings =
        [
            .. LoadDriverProcess.AppSettings(azurite, simulator),
            "--Load:Mode=lookups",
            $"--Load:Tag={StaleTag}",
            $"--Load:Lookups={LookupsPerProcess}",
        ];

        // The first process stores the tag as an hour-old read before it says ready; the others only compose.
        var drivers = Enumerable.Range(0, Processes).Select(i => LoadDriverProcess.Start(i == 0 ? [.. settings, "--Load:Prepare=true"] : settings)).ToList();
        try
        {
            await Task.WhenAll(drivers.Select(d => d.ReadyAsync(TimeSpan.FromSeconds(90))));
            var before = simulator.State.StatusRequestsFor(StaleTag);
            await Task.WhenAll(drivers.Select(d => d.GoAsync()));
            var summaries = await Task.WhenAll(drivers.Select(d => d.SummaryAsync(TimeSpan.FromSeconds(90))));

            var reads = simulator.State.StatusRequestsFor(StaleTag) - before;
            var statuses = summaries.SelectMany(s => s.Statuses ?? []).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Sum(p => p.Value));
            var report = $"upstream reads {reads}; answers {string.Join(", ", statuses.Select(p => $"{p.Key}: {p.Value}"))}; seconds {string.Join(", ", summaries.Select(s => s.Seconds.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)))}";
            output.WriteLine(report);

            Assert.Equal(0, before);
            Assert.Equal(1, reads);
            Assert.Equal(Processes * LookupsPerProcess, statuses.Values.Sum());
            Assert.DoesNotContain(statuses.Keys, status => status.StartsWith('5'));
            Assert.Equal(Processes * LookupsPerProcess, statuses.GetValueOrDefault("200"));
        }
        finally
        {
            LoadDriverProcess.DisposeAll(drivers);
        }
    }
}
