using Azure.Data.Tables;
using SmsPartner.Simulator;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.IntegrationTests.Flows;

/// <summary>
/// Dead letters from start to end over real Azurite and a loopback receiver: a delivery whose attempts run out is kept,
/// an operator deletes it (twice is fine), and the daily retention run prunes old ones by a key range.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DeadLetterLifecycleTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly Tag Campaign = Tag.Parse("deadletters");
    private readonly RecordingPolicy _storage = new();
    private AppHarness _app = null!;

    public async Task InitializeAsync() =>
        _app = await AppHarness.StartAsync(azurite, settings => settings["Callbacks:MaxAttempts"] = "2", storagePolicy: _storage);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_delivery_whose_attempts_run_out_is_kept_as_a_dead_letter_and_deleting_it_answers_204_twice()
    {
        await using var receiver = await CallbackReceiver.StartAsync();
        receiver.AnswerWith(503, 503);
        _app.Simulator.State.SeedTag(Campaign.Value, [new RecipientSeed { PhoneNumber = "+33600000001", Status = SmsStatuses.Delivered }]);
        await _app.Get<TrackingService>().RegisterAsync(Campaign, default);
        Assert.IsType<SubscribeResult.Created>(await _app.Get<SubscriptionService>().SubscribeAsync(Campaign, new(receiver.Url.AbsoluteUri), default));

        for (var i = 0; i < 3; i++)
        {
            _app.Advance(TimeSpan.FromMinutes(1));
            await _app.RunTimerAndQueuesAsync();
        }

        Assert.Equal(2, receiver.Received.Count);
        var deadLetters = _app.Get<DeadLetterService>();
        var dead = Assert.Single((await deadLetters.ListAsync(null, 50, default)).Items);
        Assert.Equal(DeadLetterReasons.Exhausted, dead.Reason);
        Assert.Equal(503, dead.Status);
        Assert.Equal(2, dead.Attempts);
        Assert.Equal(receiver.Received.First().EventId, dead.EventId);
        Assert.StartsWith("t", dead.Id, StringComparison.Ordinal);
        Assert.True(TableDeadLetterStore.IsId(dead.Id));

        Assert.Equal(204, (await _app.DeleteDeadLetterAsync(dead.Id)).Status);
        Assert.Empty((await deadLetters.ListAsync(null, 50, default)).Items);
        Assert.Equal(204, (await _app.DeleteDeadLetterAsync(dead.Id)).Status);
        Assert.False(await deadLetters.ReplayAsync(dead.Id, default));
        var bad = await _app.DeleteDeadLetterAsync("not-an-id");
        Assert.Equal(400, bad.Status);
        Assert.Equal("id", (string?)bad.Json["parameter"]);
    }

    [Fact]
    public async Task The_retention_run_prunes_dead_letters_past_the_setting_by_key_range_and_keeps_older_versions_rows_readable()
    {
        var store = _app.Get<IDeadLetterStore>();
        var now = _app.Clock.GetUtcNow();
        var keptDays = new CallbackOptions().DeadLetterDays;
        foreach (var age in new[] { 40, keptDays + 1, 1 })
        {
            await store.AddAsync(Owed(), 400, DeadLetterReasons.Refused, now.AddDays(-age), default);
        }

        // Rows of the previous key scheme ({eventId}.{subscriptionId}, no time in the key): one old, one recent.
        var index = azurite.Service.GetTableClient(_app.TablePrefix + "TagIndex");
        foreach (var age in new[] { 40, 2 })
        {
            var owed = Owed();
            await index.AddEntityAsync(new TableEntity(TableKeys.DeadLetterPartition, $"{owed.EventId}.{owed.SubscriptionId}")
            {
                ["Tag"] = owed.Tag, ["EventId"] = owed.EventId, ["EventType"] = owed.EventType, ["SubscriptionId"] = owed.SubscriptionId,
                ["CallbackUrl"] = owed.CallbackUrl.AbsoluteUri, ["Body"] = owed.Body, ["Attempts"] = 1, ["LastStatus"] = 413,
                ["DeadLetteredAt"] = now.AddDays(-age), ["CreatedAt"] = now.AddDays(-age),
            });
        }

        var before = (await _app.Get<DeadLetterService>().ListAsync(null, 50, default)).Items;
        Assert.Equal(5, before.Count);
        Assert.Contains(before, d => d.Reason == DeadLetterReasons.Refused && d.Status == 413 && !d.Id.StartsWith('t'));
        _storage.Clear();

        await _app.Get<RetentionRunner>().RunIfDueAsync(default);

        // The run's reads of the dead letters: key ranges of their partition, never the whole of it.
        // (The same run's summary retention reads its own key range of TagIndex: the seen index's expired months.)
        var indexQueries = _storage.TableQueries().Where(q => q.Table.EndsWith("TagIndex", StringComparison.Ordinal)).ToList();
        Assert.All(indexQueries, q => Assert.StartsWith("PartitionKey", q.Filter, StringComparison.Ordinal));
        var queries = indexQueries.Where(q => q.Filter.Contains("'deadletter'", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, queries.Count);
        Assert.All(queries, q => Assert.Contains("PartitionKey eq 'deadletter' and RowKey", q.Filter, StringComparison.Ordinal));
        Assert.All(queries, q => Assert.Contains("RowKey lt", q.Filter, StringComparison.Ordinal)); // bounded above: never the whole partition
        var left = (await _app.Get<DeadLetterService>().ListAsync(null, 50, default)).Items;
        Assert.Equal([now.AddDays(-2), now.AddDays(-1)], left.Select(d => d.DeadLetteredAt).Order());

        // A replayed run (another instance, or the timer twice) finds nothing more to prune.
        _app.Advance(RetentionRunner.Every);
        await _app.Get<RetentionRunner>().RunIfDueAsync(default);
        Assert.Equal(2, (await _app.Get<DeadLetterService>().ListAsync(null, 50, default)).Items.Count);
    }

    [Fact]
    public async Task Rows_deleted_meanwhile_do_not_fail_a_batch_delete_and_the_others_still_go()
    {
        var index = azurite.Service.GetTableClient(_app.TablePrefix + "TagIndex");
        await index.CreateIfNotExistsAsync();
        foreach (var key in new[] { "a", "b", "c" })
        {
            await index.AddEntityAsync(new TableEntity("prune-test", key));
        }

        // "gone" was never there (another writer removed it between the listing and the delete).
        await TableTagStore.DeleteRowsAsync(index, "prune-test", ["a", "gone", "b"], default);

        var left = await index.QueryAsync<TableEntity>(e => e.PartitionKey == "prune-test").Select(e => e.RowKey).ToListAsync();
        Assert.Equal(["c"], left);
    }

    private static PendingDelivery Owed() =>
        new(Campaign.Value, Guid.NewGuid().ToString("N"), TagEvent.Completed, Guid.NewGuid().ToString("N"), new Uri("https://hooks.example.com/h?sig=s"),
            "{}"u8.ToArray(), Attempts: 0, DateTimeOffset.UnixEpoch, ClaimedUntil: null, Azure.ETag.All);
}
