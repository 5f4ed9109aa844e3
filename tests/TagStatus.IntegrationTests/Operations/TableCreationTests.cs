using Azure.Data.Tables;
using SmsPartner.Simulator;
using TagStatus.Core.Domain;
using TagStatus.Core.Lookup;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.IntegrationTests.Operations;

/// <summary>
/// In Azure the Bicep makes the tables and the identity holds data roles only, so the app must not try to create them
/// (<c>TagStorage:CreateIfMissing</c> false); against Azurite, which starts empty, it does.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class TableCreationTests(AzuriteFixture azurite)
{
    private static readonly Tag Campaign = Tag.Parse("made-by-bicep");

    [Fact]
    public async Task With_creation_off_a_lookup_creates_no_table()
    {
        await using var app = await AppHarness.StartAsync(azurite, settings => settings["TagStorage:CreateIfMissing"] = "false");
        Seed(app);

        var result = await app.Get<TagLookupService>().LookupAsync(Campaign, TimeSpan.FromMinutes(1), default);

        Assert.IsNotType<LookupResult.Found>(result);
        Assert.Empty(await TablesOfAsync(app.TablePrefix));
    }

    [Fact]
    public async Task Against_azurite_by_default_the_first_lookup_creates_every_table()
    {
        await using var app = await AppHarness.StartAsync(azurite);
        Seed(app);

        Assert.IsType<LookupResult.Found>(await app.Get<TagLookupService>().LookupAsync(Campaign, TimeSpan.FromMinutes(1), default));

        var prefix = app.TablePrefix;
        var tables = await TablesOfAsync(prefix);
        // Besides the fixed tables, the month table of the tag's recipients, made on its first write (see Retention); the
        // single Recipients table of earlier versions is no longer made.
        var monthTable = Assert.Single(tables, name => name.Length == (prefix + "Recipients").Length + 6 && name.StartsWith(prefix + "Recipients", StringComparison.Ordinal));
        Assert.Equal(
            new[] { "Passes", "TagIndex", "Tags", "UpstreamBudget" }.Select(name => prefix + name),
            tables.Where(name => name != monthTable).Order(StringComparer.Ordinal));
    }

    private static void Seed(AppHarness app) => app.Simulator.State.SeedTag(Campaign.Value,
        [new RecipientSeed { PhoneNumber = "+33600000001", Status = SmsStatuses.Waiting }]);

    private async Task<List<string>> TablesOfAsync(string prefix)
    {
        var names = new List<string>();
        await foreach (var table in azurite.Service.QueryAsync(TableClient.CreateQueryFilter($"TableName ge {prefix} and TableName lt {prefix + "~"}")))
        {
            names.Add(table.Name);
        }

        return names;
    }
}
