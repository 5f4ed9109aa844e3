using System.Text.Json;
using Azure.Data.Tables;
using SmsPartner.Simulator;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using TagStatus.Core.Refresh;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.IntegrationTests.Flows;

/// <summary>
/// Subscriptions to any tag, event filters and secret rotation over real Azurite, the simulator and a loopback
/// receiver, with a moved clock.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class WebhookFlowTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly Tag Spring = Tag.Parse("promo-spring");
    private static readonly Tag Summer = Tag.Parse("promo-summer");
    private static readonly Tag Other = Tag.Parse("newsletter");
    private AppHarness _app = null!;

    private SimulatorState Simulator => _app.Simulator.State;

    public async Task InitializeAsync() => _app = await AppHarness.StartAsync(azurite);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    /// <summary>Two messages settling a few minutes apart: the tag changes while pending, then completes.</summary>
    private void SeedSettlingTag(Tag tag) => Simulator.SeedTag(tag.Value,
    [
        new RecipientSeed { PhoneNumber = "+33600000001", Status = SmsStatuses.Waiting, SettleAfterSeconds = 60 },
        new RecipientSeed { PhoneNumber = "+33600000002", Status = SmsStatuses.Waiting, SettleAfterSeconds = 600 },
    ]);

    private async Task RunMinutesAsync(int minutes)
    {
        for (var i = 0; i < minutes; i++)
        {
            _app.Advance(TimeSpan.FromMinutes(1));
            await _app.RunTimerAndQueuesAsync();
        }
    }

    private static (string Type, string Tag) Read(ReceivedCallback callback)
    {
        using var body = JsonDocument.Parse(callback.Body);
        return (body.RootElement.GetProperty("type").GetString()!, body.RootElement.GetProperty("tag").GetString()!);
    }

    [Fact]
    public async Task An_any_tag_subscription_for_completions_gets_only_completions_of_the_tags_with_its_prefix()
    {
        await using var completions = await CallbackReceiver.StartAsync();
        await using var everything = await CallbackReceiver.StartAsync();
        var subscriptions = _app.Get<SubscriptionService>();
        var created = Assert.IsType<SubscribeResult.Created>(
            await subscriptions.SubscribeAsync(null, new(completions.Url.AbsoluteUri, [TagEvent.Completed], "promo-"), default));
        Assert.IsType<SubscribeResult.Created>(await subscriptions.SubscribeAsync(null, new(everything.Url.AbsoluteUri), default));
        foreach (var tag in new[] { Spring, Summer, Other })
        {
            SeedSettlingTag(tag);
            await _app.Get<TrackingService>().RegisterAsync(tag, default);
        }

        await RunMinutesAsync(20);

        var received = completions.Received.Select(Read).OrderBy(r => r.Tag, StringComparer.Ordinal).ToList();
        Assert.Equal([(TagEvent.Completed, Spring.Value), (TagEvent.Completed, Summer.Value)], received);
        Assert.All(completions.Received, r => Assert.True(r.IsSignedWith(created.Secret)));
        // The unfiltered subscriber saw the changes on the way too, for all three tags: the filter did the work above.
        var all = everything.Received.Select(Read).ToList();
        Assert.Contains((TagEvent.Changed, Spring.Value), all);
        Assert.Equal(3, all.Count(r => r.Type == TagEvent.Completed));
        Assert.False(completions.Received.Single(r => Read(r).Tag == Spring.Value).IsSignedWith(
            Assert.IsType<SubscribeResult.Created>(await subscriptions.SubscribeAsync(null, new(everything.Url.AbsoluteUri), default)).Secret));
    }

    [Fact]
    public async Task Deliveries_stay_verifiable_through_a_rotation_with_the_old_secret_during_the_overlap_and_the_new_one_after()
    {
        await using var receiver = await CallbackReceiver.StartAsync();
        var subscriptions = _app.Get<SubscriptionService>();
        var created = Assert.IsType<SubscribeResult.Created>(await subscriptions.SubscribeAsync(null, new(receiver.Url.AbsoluteUri, [TagEvent.Completed]), default));
        var overlap = new CallbackOptions().SecretRotationOverlap;

        SeedSettlingTag(Spring);
        await _app.Get<TrackingService>().RegisterAsync(Spring, default);
        await RunMinutesAsync(15);
        var before = Assert.Single(receiver.Received);

        var rotated = await subscriptions.RotateSecretAsync(null, created.Subscription.Id, default);
        Assert.NotNull(rotated);
        Assert.NotEqual(created.Secret, rotated.Secret);
        Assert.Equal(_app.Clock.GetUtcNow() + overlap, rotated.PreviousValidUntil);
        SeedSettlingTag(Summer);
        await _app.Get<TrackingService>().RegisterAsync(Summer, default);
        await RunMinutesAsync(15);
        var during = receiver.Received.Last();

        _app.Advance(overlap);
        SeedSettlingTag(Other);
        await _app.Get<TrackingService>().RegisterAsync(Other, default);
        await RunMinutesAsync(15);
        var after = receiver.Received.Last();

        Assert.Equal(3, receiver.Received.Count);
        Assert.True(before.IsSignedWith(created.Secret));
        Assert.True(during.IsSignedWith(created.Secret), "a receiver that has not switched yet");
        Assert.True(during.IsSignedWith(rotated.Secret), "a receiver that has switched");
        Assert.True(after.IsSignedWith(rotated.Secret));
        Assert.False(after.IsSignedWith(created.Secret), "the old secret ends with the overlap");
    }

    [Fact]
    public async Task Unsubscribing_from_any_tag_twice_succeeds_and_stops_the_deliveries()
    {
        await using var receiver = await CallbackReceiver.StartAsync();
        var subscriptions = _app.Get<SubscriptionService>();
        var created = Assert.IsType<SubscribeResult.Created>(await subscriptions.SubscribeAsync(null, new(receiver.Url.AbsoluteUri), default));

        Assert.True(await subscriptions.UnsubscribeAsync(null, created.Subscription.Id, default));
        Assert.False(await subscriptions.UnsubscribeAsync(null, created.Subscription.Id, default));

        SeedSettlingTag(Spring);
        await _app.Get<TrackingService>().RegisterAsync(Spring, default);
        await RunMinutesAsync(15);
        Assert.Empty(receiver.Received);
        Assert.Empty(await _app.Get<ICallbackStore>().GetAnyTagSubscriptionsAsync(default));
    }
    [Fact]
    public async Task Two_numbers_opting_out_make_one_event_listing_both_for_the_subscribers_that_asked_and_a_retried_refresh_sends_no_second()
    {
        await using var optedOut = await CallbackReceiver.StartAsync();
        await using var anyTagOptedOut = await CallbackReceiver.StartAsync();
        await using var stateOnly = await CallbackReceiver.StartAsync();
        var subscriptions = _app.Get<SubscriptionService>();
        var created = Assert.IsType<SubscribeResult.Created>(await subscriptions.SubscribeAsync(Spring, new(optedOut.Url.AbsoluteUri, [TagEvent.OptedOut]), default));
        Assert.IsType<SubscribeResult.Created>(await subscriptions.SubscribeAsync(null, new(anyTagOptedOut.Url.AbsoluteUri, [TagEvent.OptedOut], "promo-"), default));
        Assert.IsType<SubscribeResult.Created>(await subscriptions.SubscribeAsync(Spring, new(stateOnly.Url.AbsoluteUri), default));
        RecipientSeed[] Seed(bool optOut) =>
        [
            new() { PhoneNumber = "+33600000001", Status = SmsStatuses.Delivered, StopSms = optOut, Date = 1_800_000_000 },
            new() { PhoneNumber = "+33600000002", Status = SmsStatuses.Delivered, StopSms = optOut, Date = 1_800_000_000 },
            new() { PhoneNumber = "+33600000003", Status = SmsStatuses.Delivered, Date = 1_800_000_000 },
            new() { PhoneNumber = "+33600000004", Status = SmsStatuses.Waiting, Date = 1_800_000_000 },
        ];
        Simulator.SeedTag(Spring.Value, Seed(optOut: false));
        await _app.Get<TrackingService>().RegisterAsync(Spring, default);
        await RunMinutesAsync(5);
        Assert.Empty(optedOut.Received);

        Simulator.SeedTag(Spring.Value, Seed(optOut: true));
        await _app.Get<TagRefresher>().RefreshAsync(Spring, RefreshReason.Scheduled, default);
        await _app.DeliverQueuedAsync();
        // The same upstream read again, as a retried queue message would: the opt-outs are stored, nothing new to tell.
        await _app.Get<TagRefresher>().RefreshAsync(Spring, RefreshReason.Scheduled, default);
        await RunMinutesAsync(5);

        foreach (var receiver in new[] { optedOut, anyTagOptedOut })
        {
            var received = Assert.Single(receiver.Received);
            using var body = JsonDocument.Parse(received.Body);
            Assert.Equal(TagEvent.OptedOut, body.RootElement.GetProperty("type").GetString());
            Assert.Equal(Spring.Value, body.RootElement.GetProperty("tag").GetString());
            var data = body.RootElement.GetProperty("data");
            Assert.Equal(["+33600000001", "+33600000002"], data.GetProperty("phoneNumbers").EnumerateArray().Select(n => n.GetString()));
            Assert.Equal(0, data.GetProperty("unlisted").GetInt32());
            Assert.Equal(2, data.GetProperty("counts").GetProperty("optedOut").GetInt32());
        }

        Assert.True(optedOut.Received.Single().IsSignedWith(created.Secret));
        Assert.Equal(optedOut.Received.Single().EventId, anyTagOptedOut.Received.Single().EventId);
        Assert.DoesNotContain(stateOnly.Received, r => Read(r).Type == TagEvent.OptedOut);
        var stored = await _app.GetTagAsync(Spring.Value);
        Assert.Equal(2, (int?)stored.Json["counts"]!["optedOut"]);
    }
    [Fact]
    public async Task Opt_outs_whose_rows_were_saved_without_their_summary_are_still_reported_once()
    {
        await using var receiver = await CallbackReceiver.StartAsync();
        Assert.IsType<SubscribeResult.Created>(await _app.Get<SubscriptionService>().SubscribeAsync(Spring, new(receiver.Url.AbsoluteUri, [TagEvent.OptedOut]), default));
        RecipientSeed[] Seed(bool optOut) =>
        [
            new() { PhoneNumber = "+33600000001", Status = SmsStatuses.Delivered, StopSms = optOut, Date = 1_800_000_000 },
            new() { PhoneNumber = "+33600000002", Status = SmsStatuses.Waiting, Date = 1_800_000_000 },
        ];
        Simulator.SeedTag(Spring.Value, Seed(optOut: false));
        await _app.Get<TagRefresher>().RefreshAsync(Spring, RefreshReason.Register, default);

        // A save that wrote the opted-out row and died before its summary (and the event riding with it).
        var summary = (await _app.Get<ITagStore>().GetSummaryAsync(Spring, default))!.Summary;
        var rows = azurite.Service.GetTableClient($"{_app.TablePrefix}{RecipientMonths.TableStem}{summary.RecipientsMonth}");
        TableEntity row = await rows.GetEntityAsync<TableEntity>(TableKeys.ForTag(Spring), TableKeys.ForRecipient("+33600000001", 0));
        row["StopSms"] = true;
        await rows.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Merge);
        Simulator.SeedTag(Spring.Value, Seed(optOut: true));

        await _app.Get<TagRefresher>().RefreshAsync(Spring, RefreshReason.Scheduled, default);
        await _app.Get<TagRefresher>().RefreshAsync(Spring, RefreshReason.Scheduled, default);
        await _app.DeliverQueuedAsync();

        var received = Assert.Single(receiver.Received);
        using var body = JsonDocument.Parse(received.Body);
        var data = body.RootElement.GetProperty("data");
        Assert.Empty(data.GetProperty("phoneNumbers").EnumerateArray());
        Assert.Equal(1, data.GetProperty("unlisted").GetInt32());
        Assert.Equal(1, data.GetProperty("counts").GetProperty("optedOut").GetInt32());
    }

    [Fact]
    public async Task A_change_with_more_subscribers_than_one_transaction_holds_is_stored_and_each_event_reaches_as_many_as_fit()
    {
        await using var receiver = await CallbackReceiver.StartAsync();
        var store = _app.Get<ICallbackStore>();
        var now = _app.Clock.GetUtcNow();
        // Stored under caps since lowered (the API refuses more than today's caps): 60 of the tag's own, 30 of any tag's.
        for (var i = 0; i < 60; i++)
        {
            await store.AddSubscriptionAsync(new Subscription($"own{i:D3}", Spring.Value, receiver.Url, now.AddMinutes(-i)) { Events = TagEvent.Types }, default);
        }

        for (var i = 0; i < 30; i++)
        {
            await store.AddSubscriptionAsync(new Subscription($"any{i:D3}", null, receiver.Url, now.AddMinutes(-i)) { Events = TagEvent.Types }, default);
        }

        RecipientSeed[] Seed(bool settled) =>
        [
            new() { PhoneNumber = "+33600000001", Status = settled ? SmsStatuses.Delivered : SmsStatuses.Waiting, StopSms = settled, Date = 1_800_000_000 },
            new() { PhoneNumber = "+33600000002", Status = SmsStatuses.Delivered, Date = 1_800_000_000 },
        ];
        Simulator.SeedTag(Spring.Value, Seed(settled: false));
        await _app.Get<TrackingService>().RegisterAsync(Spring, default);
        Simulator.SeedTag(Spring.Value, Seed(settled: true));

        // One read completes the tag and opts a number out: two events to 90 subscribers would be 180 rows beside the summary.
        var result = await _app.Get<TagRefresher>().RefreshAsync(Spring, RefreshReason.Scheduled, default);
        await _app.DeliverQueuedAsync();

        Assert.Equal(TagState.Complete, result.Snapshot.Summary.State);
        Assert.Equal(TagState.Complete, (await _app.Get<ITagStore>().GetSummaryAsync(Spring, default))!.Summary.State);
        var received = receiver.Received.Select(Read).ToList();
        Assert.Equal(CallbackObserver.MaxDeliveryRows / 2, received.Count(r => r.Type == TagEvent.Completed));
        Assert.Equal(CallbackObserver.MaxDeliveryRows / 2, received.Count(r => r.Type == TagEvent.OptedOut));
        Assert.Contains(_app.Logs.GetSnapshot(), record => record.Id.Id == 5108);
    }
}
