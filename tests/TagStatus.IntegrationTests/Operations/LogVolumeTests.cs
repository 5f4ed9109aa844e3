using Microsoft.Extensions.Logging;
using SmsPartner.Simulator;
using TagStatus.Api.Hosting;
using TagStatus.Core.Domain;
using TagStatus.Core.Lookup;
using TagStatus.IntegrationTests.Support;
using Xunit.Abstractions;

namespace TagStatus.IntegrationTests.Operations;

/// <summary>
/// Log lines per lookup, with the filters both hosts apply (<see cref="QuietLogging"/>) at the hosts' default level:
/// Application Insights ingestion must grow with lookups by a few lines each, not by one per storage request.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class LogVolumeTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    /// <summary>A live lookup may say what it did in a few lines; the storage and SMS Partner requests behind it say nothing.</summary>
    private const int MaxLinesPerLookup = 3;

    private static readonly Tag Campaign = Tag.Parse("quiet-logs");

    [Fact]
    public async Task A_live_lookup_and_a_stored_one_log_at_most_a_few_lines_with_the_hosts_filters()
    {
        await using var app = await AppHarness.StartAsync(azurite, logging: HostDefaults);
        Seed(app);

        var (live, stored) = await CountLinesOfTwoLookupsAsync(app);
        output.WriteLine($"filtered: live lookup {live} lines, stored lookup {stored} lines");

        Assert.True(live <= MaxLinesPerLookup, $"A live lookup logged {live} lines (bound {MaxLinesPerLookup}):\n{app.AllLogText()}");
        Assert.True(stored <= MaxLinesPerLookup, $"A stored lookup logged {stored} lines (bound {MaxLinesPerLookup}):\n{app.AllLogText()}");
        Assert.DoesNotContain(app.Logs.GetSnapshot(), r => r.Category?.StartsWith("Azure", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Without_the_filters_the_same_lookups_log_every_storage_request()
    {
        // The control: the bound above is met because of the filters, not because nothing is ever logged.
        await using var app = await AppHarness.StartAsync(azurite, logging: b => b.SetMinimumLevel(LogLevel.Information));
        Seed(app);

        var (live, stored) = await CountLinesOfTwoLookupsAsync(app);
        output.WriteLine($"unfiltered: live lookup {live} lines, stored lookup {stored} lines");

        Assert.True(live + stored > 2 * MaxLinesPerLookup, $"Unfiltered, the two lookups logged only {live} + {stored} lines.");
        Assert.Contains(app.Logs.GetSnapshot(), r => r.Category == "Azure.Core");
    }

    private static void HostDefaults(ILoggingBuilder logging) => logging.SetMinimumLevel(LogLevel.Information).AddQuietAzureSdkLogs();

    private static void Seed(AppHarness app) => app.Simulator.State.SeedTag(Campaign.Value,
    [
        new RecipientSeed { PhoneNumber = "+33600000001", Status = SmsStatuses.Delivered },
        new RecipientSeed { PhoneNumber = "+33600000002", Status = SmsStatuses.Waiting },
    ]);

    private static async Task<(int Live, int Stored)> CountLinesOfTwoLookupsAsync(AppHarness app)
    {
        var lookup = app.Get<TagLookupService>();
        app.Logs.Clear();
        var first = Assert.IsType<LookupResult.Found>(await lookup.LookupAsync(Campaign, TimeSpan.FromMinutes(1), default));
        var live = app.Logs.Count;

        app.Logs.Clear();
        app.Advance(TimeSpan.FromSeconds(10));
        var second = Assert.IsType<LookupResult.Found>(await lookup.LookupAsync(Campaign, TimeSpan.FromMinutes(1), default));
        var stored = app.Logs.Count;

        Assert.Equal(LookupSource.Live, first.Source);
        Assert.Equal(LookupSource.Store, second.Source);
        return (live, stored);
    }
}
