using System.Text.Json;
using SmsPartner.Simulator;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using TagStatus.Core.Refresh;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.IntegrationTests.Flows;

/// <summary>
/// Tracking, the timer's runs, the refresh and callbacks queues and the outbox over real Azurite and the simulator, with a
/// moved clock (<see cref="AppHarness.RunTimerAndQueuesAsync"/> is a minute of the host).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class TrackingFlowTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly Tag Campaign = Tag.Parse("black-friday");
    private AppHarness _app = null!;

    private SimulatorState Simulator => _app.Simulator.State;

    private RefreshRunner Runner => _app.Get<RefreshRunner>();

    private ITagStore Store => _app.Get<ITagStore>();

    // Registrations here read their tag whole while the caller waits (1,000 rows are 50 pages): these flows follow the
    // timer, not the queued read of a tag bigger than that (BigTagFlowTests).
    public async Task InitializeAsync() => _app = await AppHarness.StartAsync(azurite, settings => settings["Lookup:MaxInlinePages"] = "50");

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<TagSummary> SummaryAsync(Tag? tag = null) => (await Store.GetSummaryAsync(tag ?? Campaign, default))!.Summary;

    [Fact]
    public async Task A_thousand_waiting_recipients_reach_complete_through_several_timer_runs()
    {
        Simulator.GenerateTag(Campaign.Value, new GenerateSpec { Count = 1000, WaitingRatio = 1.0, SettleAfterSecondsMin = 60, SettleAfterSecondsMax = 900, Seed = 11 });
        var registered = await _app.Get<TrackingService>().RegisterAsync(Campaign, default);
        Assert.Equal(TagState.Pending, registered.State);
        Assert.Equal(1000, registered.Counts.Waiting);

        var runs = 0;
        var refreshes = 0;
        while ((await SummaryAsync()).State == TagState.Pending && runs < 30)
        {
            _app.Advance(TimeSpan.FromMinutes(1));
            var minute = await _app.RunTimerAndQueuesAsync();
            Assert.Equal(minute.Run.TagsQueued, minute.Refreshes.Count);
            refreshes += minute.Refreshes.Count(r => r == QueuedRefreshOutcome.Refreshed);
            runs++;
        }

        var summary = await SummaryAsync();
        Assert.Equal(TagState.Complete, summary.State);
        Assert.Equal(0, summary.Counts.Waiting);
        Assert.Equal(1000, summary.Counts.Total);
        Assert.InRange(runs, 3, 30);
        Assert.NotNull(summary.CompletedAt);
        // Issue 12 changed this: a complete tag's next read is its re-check (it used to have none).
        Assert.Equal(summary.RefreshedAt + new TrackingOptions().RecheckEvery, summary.NextRefreshAt);
        // Every minute for its first ten minutes, then every five: each due time queued the tag once, and each message
        // refreshed it; the next schedule row is the re-check's, hours away.
        Assert.InRange(refreshes, 3, runs);
        Assert.Equal(refreshes, _app.Queue.RefreshesQueued);
        Assert.Equal(0, (await Runner.RunAsync(default)).TagsDue);
    }

    [Fact]
    public async Task A_tag_left_waiting_expires_when_the_window_closes()
    {
        Simulator.SeedTag(Campaign.Value, [new RecipientSeed { PhoneNumber = "+33600000001", Status = SmsStatuses.Waiting }]);
        await _app.Get<TrackingService>().RegisterAsync(Campaign, default);

        for (var hour = 0; hour < 60 && (await SummaryAsync()).State == TagState.Pending; hour++)
        {
            _app.Advance(TimeSpan.FromHours(1));
            await _app.RunTimerAndQueuesAsync();
        }

        var summary = await SummaryAsync();
        Assert.Equal(TagState.Expired, summary.State);
        Assert.Equal(1, summary.Counts.Waiting);
        Assert.True(_app.Clock.GetUtcNow() >= summary.FirstSeenAt + TimeSpan.FromHours(54), "expired before the window and margin closed");
        var calls = Simulator.StatusRequestsFor(Campaign.Value);
        _app.Advance(TimeSpan.FromHours(2));
        Assert.Equal(0, (await _app.RunTimerAndQueuesAsync()).Run.TagsDue);
        Assert.Equal(calls, Simulator.StatusRequestsFor(Campaign.Value));
    }

    [Fact]
    public async Task A_tag_whose_upstream_fails_keeps_its_state_and_recovers()
    {
        Simulator.SeedTag(Campaign.Value, [new RecipientSeed { PhoneNumber = "+33600000001", Status = SmsStatuses.Waiting, SettleAfterSeconds = 120 }]);
        var other = Tag.Parse("other-campaign");
        Simulator.SeedTag(other.Value, [new RecipientSeed { PhoneNumber = "+33600000009", Status = SmsStatuses.Waiting, SettleAfterSeconds = 120 }]);
        await _app.Get<TrackingService>().RegisterAsync(Campaign, default);
        await _app.Get<TrackingService>().RegisterAsync(other, default);

        Simulator.QueueFault(new FaultSpec { Kind = FaultKind.ServerError, Count = 1000, Tag = Campaign.Value });
        _app.Advance(TimeSpan.FromMinutes(3));
        var failing = await _app.RunTimerAndQueuesAsync();

        Assert.Equal(2, failing.Run.TagsQueued);
        Assert.Equal([QueuedRefreshOutcome.Refreshed, QueuedRefreshOutcome.Failed], failing.Refreshes.Order());
        Assert.Equal(TagState.Pending, (await SummaryAsync()).State);
        Assert.Equal(1, (await SummaryAsync()).FailedRefreshes);
        Assert.Equal(TagState.Complete, (await SummaryAsync(other)).State);

        Simulator.ClearFaults();
        _app.Advance(TimeSpan.FromMinutes(10));
        await _app.RunTimerAndQueuesAsync();

        var recovered = await SummaryAsync();
        Assert.Equal(TagState.Complete, recovered.State);
        Assert.Equal(0, recovered.FailedRefreshes);
    }

    [Fact]
    public async Task A_replayed_run_writes_nothing_new()
    {
        Simulator.GenerateTag(Campaign.Value, new GenerateSpec { Count = 50, WaitingRatio = 1.0, SettleAfterSecondsMin = 30, SettleAfterSecondsMax = 3000, Seed = 5 });
        await _app.Get<TrackingService>().RegisterAsync(Campaign, default);
        _app.Advance(TimeSpan.FromMinutes(5));
        var first = await _app.RunTimerAndQueuesAsync();
        var calls = Simulator.StatusRequests;

        var replay = await _app.RunTimerAndQueuesAsync();

        Assert.Equal([QueuedRefreshOutcome.Refreshed], first.Refreshes);
        Assert.Equal(0, replay.Run.TagsDue);
        Assert.Empty(replay.Refreshes);
        Assert.Equal(calls, Simulator.StatusRequests);
    }

    [Fact]
    public async Task A_receiver_that_fails_three_times_gets_the_event_once_with_one_id_and_a_valid_signature()
    {
        await using var receiver = await CallbackReceiver.StartAsync();
        receiver.AnswerWith(500, 503, 429);
        Simulator.SeedTag(Campaign.Value, [new RecipientSeed { PhoneNumber = "+33600000001", Status = SmsStatuses.Waiting, SettleAfterSeconds = 30 }]);
        var subscribed = await _app.Get<SubscriptionService>().SubscribeAsync(Campaign, new(receiver.Url.AbsoluteUri), default);
        var secret = Assert.IsType<SubscribeResult.Created>(subscribed).Secret;

        _app.Advance(TimeSpan.FromMinutes(1));
        await _app.RunTimerAndQueuesAsync(); // completes the tag; first attempt fails
        for (var i = 0; i < 6; i++)
        {
            _app.Advance(TimeSpan.FromMinutes(10));
            await _app.RunTimerAndQueuesAsync();
        }

        var received = receiver.Received.ToArray();
        Assert.Equal(4, received.Length);
        Assert.Single(received.Select(r => r.EventId).Distinct());
        Assert.All(received, r => Assert.Equal(received[0].Body, r.Body));
        Assert.All(received, r => Assert.True(r.IsSignedWith(secret)));
        using var body = JsonDocument.Parse(received[0].Body);
        Assert.Equal(received[0].EventId, body.RootElement.GetProperty("id").GetString());
        Assert.Equal(TagEvent.Completed, body.RootElement.GetProperty("type").GetString());
        Assert.Equal("complete", body.RootElement.GetProperty("data").GetProperty("state").GetString());
        Assert.Empty(await _app.Get<ICallbackStore>().GetOverdueDeliveriesAsync(Campaign, _app.Clock.GetUtcNow().AddDays(1), default));
        Assert.DoesNotContain("very-secret-signature", _app.AllLogText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_restart_between_the_state_change_and_the_delivery_still_delivers()
    {
        await using var receiver = await CallbackReceiver.StartAsync();
        Simulator.SeedTag(Campaign.Value, [new RecipientSeed { PhoneNumber = "+33600000001", Status = SmsStatuses.Waiting, SettleAfterSeconds = 30 }]);
        var created = Assert.IsType<SubscribeResult.Created>(await _app.Get<SubscriptionService>().SubscribeAsync(Campaign, new(receiver.Url.AbsoluteUri), default));
        _app.Advance(TimeSpan.FromMinutes(1));

        // The change is recorded (with its outbox row and its queue message) and the worker dies before delivering.
        await _app.Get<TagRefresher>().RefreshAsync(Campaign, RefreshReason.Scheduled, default);
        Assert.Empty(receiver.Received);

        await using var restarted = _app.Restart(azurite);
        Assert.Equal([DeliveryOutcome.Delivered], await restarted.DeliverQueuedAsync());

        var delivered = Assert.Single(receiver.Received);
        Assert.True(delivered.IsSignedWith(created.Secret));
    }

    [Fact]
    public async Task An_event_whose_queue_message_was_lost_is_delivered_after_the_sweep()
    {
        await using var receiver = await CallbackReceiver.StartAsync();
        Simulator.SeedTag(Campaign.Value, [new RecipientSeed { PhoneNumber = "+33600000001", Status = SmsStatuses.Waiting, SettleAfterSeconds = 30 }]);
        await _app.Get<SubscriptionService>().SubscribeAsync(Campaign, new(receiver.Url.AbsoluteUri), default);
        _app.Advance(TimeSpan.FromMinutes(1));
        await _app.Get<TagRefresher>().RefreshAsync(Campaign, RefreshReason.Scheduled, default);
        _app.Queue.Clear(); // the commit happened, the enqueue did not

        var before = await _app.RunTimerAndQueuesAsync();
        _app.Advance(TimeSpan.FromHours(1.5));
        var swept = await _app.RunTimerAndQueuesAsync();

        Assert.Empty(before.Deliveries);
        Assert.Equal(1, swept.Run.Repaired);
        Assert.Equal([DeliveryOutcome.Delivered], swept.Deliveries);
        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task A_pending_tag_that_lost_its_schedule_row_is_refreshed_again_after_the_sweep()
    {
        Simulator.SeedTag(Campaign.Value, [new RecipientSeed { PhoneNumber = "+33600000001", Status = SmsStatuses.Waiting, SettleAfterSeconds = 30 }]);
        var registered = await _app.Get<TrackingService>().RegisterAsync(Campaign, default);
        await Store.RemoveDueAsync(new DueTag(Campaign, registered.NextRefreshAt!.Value, 1), default); // as if its write was lost

        _app.Advance(TimeSpan.FromMinutes(5));
        var lost = await _app.RunTimerAndQueuesAsync();
        _app.Advance(TimeSpan.FromHours(1));
        var swept = await _app.RunTimerAndQueuesAsync();
        _app.Advance(TimeSpan.FromMinutes(1));
        await _app.RunTimerAndQueuesAsync();

        Assert.Equal(0, lost.Run.TagsDue);
        Assert.True(swept.Run.Repaired >= 1, $"repaired {swept.Run.Repaired}");
        Assert.Equal(TagState.Complete, (await SummaryAsync()).State);
    }

    [Fact]
    public async Task A_receiver_answering_gone_ends_the_subscription_and_a_bad_request_goes_to_the_dead_letters_to_be_replayed()
    {
        await using var gone = await CallbackReceiver.StartAsync();
        await using var refusing = await CallbackReceiver.StartAsync();
        gone.AnswerWith(410);
        refusing.AnswerWith(400);
        Simulator.SeedTag(Campaign.Value, [new RecipientSeed { PhoneNumber = "+33600000001", Status = SmsStatuses.Waiting, SettleAfterSeconds = 30 }]);
        var subscriptions = _app.Get<SubscriptionService>();
        await subscriptions.SubscribeAsync(Campaign, new(gone.Url.AbsoluteUri), default);
        await subscriptions.SubscribeAsync(Campaign, new(refusing.Url.AbsoluteUri), default);

        for (var i = 0; i < 4; i++)
        {
            _app.Advance(TimeSpan.FromMinutes(10));
            await _app.RunTimerAndQueuesAsync();
        }

        Assert.Single(gone.Received);
        Assert.Single(refusing.Received);
        var left = await _app.Get<ICallbackStore>().GetSubscriptionsAsync(Campaign, default);
        Assert.Equal(refusing.Url, Assert.Single(left).CallbackUrl);

        // The operator lists the refused event (without the URL's query) and replays it once the receiver is fixed.
        var deadLetters = _app.Get<DeadLetterService>();
        var dead = Assert.Single((await deadLetters.ListAsync(null, 50, default)).Items);
        Assert.Equal(400, dead.Status);
        Assert.Equal(refusing.Received.Single().EventId, dead.EventId);
        Assert.DoesNotContain("very-secret", dead.CallbackTarget, StringComparison.Ordinal);
        Assert.True(await deadLetters.ReplayAsync(dead.Id, default));
        await _app.RunTimerAndQueuesAsync();

        Assert.Equal(2, refusing.Received.Count);
        Assert.Equal(refusing.Received.First().Body, refusing.Received.Last().Body);
        Assert.Equal(dead.EventId, refusing.Received.Last().EventId);
        Assert.Empty((await deadLetters.ListAsync(null, 50, default)).Items);
        Assert.False(await deadLetters.ReplayAsync(dead.Id, default));
    }

    [Fact]
    public async Task Unsubscribing_drops_what_was_still_owed_to_the_subscriber()
    {
        await using var receiver = await CallbackReceiver.StartAsync();
        receiver.AnswerWith(503);
        Simulator.SeedTag(Campaign.Value, [new RecipientSeed { PhoneNumber = "+33600000001", Status = SmsStatuses.Waiting, SettleAfterSeconds = 30 }]);
        var subscriptions = _app.Get<SubscriptionService>();
        var created = Assert.IsType<SubscribeResult.Created>(await subscriptions.SubscribeAsync(Campaign, new(receiver.Url.AbsoluteUri), default));
        _app.Advance(TimeSpan.FromMinutes(1));
        await _app.RunTimerAndQueuesAsync();
        var outbox = _app.Get<ICallbackStore>();
        Assert.Single(await outbox.GetOverdueDeliveriesAsync(Campaign, _app.Clock.GetUtcNow().AddDays(1), default));

        Assert.True(await subscriptions.UnsubscribeAsync(Campaign, created.Subscription.Id, default));

        Assert.Empty(await outbox.GetOverdueDeliveriesAsync(Campaign, _app.Clock.GetUtcNow().AddDays(1), default));
        _app.Advance(TimeSpan.FromHours(1));
        Assert.Equal([DeliveryOutcome.Skipped], (await _app.RunTimerAndQueuesAsync()).Deliveries); // its message finds nothing
        Assert.Single(receiver.Received);
        Assert.False(await subscriptions.UnsubscribeAsync(Campaign, created.Subscription.Id, default));
    }

    [Fact]
    public async Task Subscribing_to_a_tag_already_complete_delivers_its_completed_event_on_the_next_run()
    {
        await using var receiver = await CallbackReceiver.StartAsync();
        Simulator.SeedTag(Campaign.Value, [new RecipientSeed { PhoneNumber = "+33600000001", Status = SmsStatuses.Delivered }]);
        Assert.Equal(TagState.Complete, (await _app.Get<TrackingService>().RegisterAsync(Campaign, default)).State);

        await _app.Get<SubscriptionService>().SubscribeAsync(Campaign, new(receiver.Url.AbsoluteUri), default);
        await _app.RunTimerAndQueuesAsync();

        var delivered = Assert.Single(receiver.Received);
        using var body = JsonDocument.Parse(delivered.Body);
        Assert.Equal(TagEvent.Completed, body.RootElement.GetProperty("type").GetString());
        Assert.Matches("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$", body.RootElement.GetProperty("occurredAt").GetString());
    }

    [Fact]
    public async Task A_tag_expiring_while_its_upstream_fails_still_tells_its_subscribers()
    {
        await using var receiver = await CallbackReceiver.StartAsync();
        Simulator.SeedTag(Campaign.Value, [new RecipientSeed { PhoneNumber = "+33600000001", Status = SmsStatuses.Waiting }]);
        await _app.Get<SubscriptionService>().SubscribeAsync(Campaign, new(receiver.Url.AbsoluteUri), default);
        Simulator.QueueFault(new FaultSpec { Kind = FaultKind.ServerError, Count = 100_000, Tag = Campaign.Value });

        for (var hour = 0; hour < 60 && (await SummaryAsync()).State == TagState.Pending; hour++)
        {
            _app.Advance(TimeSpan.FromHours(1));
            await _app.RunTimerAndQueuesAsync();
        }

        Assert.Equal(TagState.Expired, (await SummaryAsync()).State);
        await _app.RunTimerAndQueuesAsync();
        var expired = receiver.Received.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("type").GetString()).ToList();
        Assert.Contains(TagEvent.Expired, expired);
    }
}
