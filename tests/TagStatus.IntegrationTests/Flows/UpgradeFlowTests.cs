using Azure.Data.Tables;
using SmsPartner.Simulator;
using TagStatus.Core.Domain;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.IntegrationTests.Flows;

/// <summary>
/// Storage as the version before schedule rows left it: no <c>due</c> partition, and listing rows holding only the
/// tag, its state and its next refresh. Tags tracked then must go on being refreshed and listed right.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class UpgradeFlowTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_tag_tracked_before_schedule_rows_existed_is_listed_from_its_summary_and_refreshed_after_the_sweep()
    {
        await using var app = await AppHarness.StartAsync(azurite);
        var tag = Tag.Parse("legacy");
        app.Simulator.State.SeedTag(tag.Value, [new RecipientSeed { PhoneNumber = "+33600000001", Status = SmsStatuses.Waiting, SettleAfterSeconds = 60 }]);
        await app.Get<TrackingService>().RegisterAsync(tag, default);
        await RewindToTheOldShapeAsync(app, tag);

        var listed = Assert.Single((await app.Get<TrackingService>().ListAsync(null, 10, null, default)).Tags);
        var queued = 0;
        var repaired = 0;
        for (var i = 0; i < 3; i++)
        {
            app.Advance(TimeSpan.FromHours(1.5));
            var minute = await app.RunTimerAndQueuesAsync();
            queued += minute.Run.TagsQueued;
            repaired += minute.Run.Repaired;
        }

        Assert.True(listed.Tracked);
        Assert.Equal(1, listed.Counts.Total);
        Assert.True(repaired >= 1, "the sweep did not reindex the tag");
        Assert.True(queued >= 1, "the tag was never queued");
        Assert.Equal(TagState.Complete, (await app.Get<ITagStore>().GetSummaryAsync(tag, default))!.Summary.State);
        var relisted = Assert.Single((await app.Get<TrackingService>().ListAsync(null, 10, null, default)).Tags);
        Assert.Equal(TagState.Complete, relisted.State);
    }

    [Fact]
    public async Task Registering_again_a_tag_tracked_before_schedule_rows_existed_gives_it_one()
    {
        await using var app = await AppHarness.StartAsync(azurite);
        var tag = Tag.Parse("legacy-again");
        app.Simulator.State.SeedTag(tag.Value, [new RecipientSeed { PhoneNumber = "+33600000001", Status = SmsStatuses.Waiting, SettleAfterSeconds = 60 }]);
        await app.Get<TrackingService>().RegisterAsync(tag, default);
        await RewindToTheOldShapeAsync(app, tag);

        await app.Get<TrackingService>().RegisterAsync(tag, default);
        app.Advance(TimeSpan.FromMinutes(2));
        var minute = await app.RunTimerAndQueuesAsync();

        Assert.Equal(1, minute.Run.TagsQueued);
        Assert.Equal(TagState.Complete, (await app.Get<ITagStore>().GetSummaryAsync(tag, default))!.Summary.State);
    }

    /// <summary>Deletes every TagIndex row and writes the tag's listing row back the way the first versions did.</summary>
    private static async Task RewindToTheOldShapeAsync(AppHarness app, Tag tag)
    {
        var index = app.Get<TableServiceClient>().GetTableClient(app.TablePrefix + "TagIndex");
        var rows = new List<TableEntity>();
        await foreach (var row in index.QueryAsync<TableEntity>())
        {
            rows.Add(row);
        }

        foreach (var row in rows)
        {
            await index.DeleteEntityAsync(row.PartitionKey, row.RowKey);
        }

        var summary = (await app.Get<ITagStore>().GetSummaryAsync(tag, default))!.Summary;
        var listing = rows.Single(row => row.PartitionKey == "tracked");
        await index.AddEntityAsync(new TableEntity("tracked", listing.RowKey) { ["Tag"] = tag.Value, ["State"] = "pending", ["NextRefreshAt"] = summary.NextRefreshAt });
    }
}
