using System.Text.Json.Nodes;
using Moq;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Callbacks;

public sealed class CallbackObserverTests
{
    private static readonly Tag MonTag = Tag.Parse("montag");
    private readonly Mock<ICallbackStore> _callbacks = new(MockBehavior.Strict);

    private static readonly TagSummary Pending = Summary("montag", TagState.Pending, new TagCounts(2, 1, 0, 1, 0), T0, T0.AddMinutes(1), tracked: true);
    private static readonly TagSummary Complete = Summary("montag", TagState.Complete, new TagCounts(2, 2, 0, 0, 0), T0, T0.AddMinutes(5), tracked: true, completedAt: T0.AddMinutes(5));

    public CallbackObserverTests() =>
        _callbacks.Setup(c => c.GetAnyTagSubscriptionsAsync(It.IsAny<CancellationToken>())).ReturnsAsync([]);

    private void Subscribers(params string[] ids) =>
        _callbacks.Setup(c => c.GetSubscriptionsAsync(MonTag, It.IsAny<CancellationToken>()))
            .ReturnsAsync(ids.Select(id => new Subscription(id, "montag", new Uri($"https://hooks.example.com/{id}?sig=s"), T0)).ToList());

    private void AnyTagSubscribers(params Subscription[] subscriptions) =>
        _callbacks.Setup(c => c.GetAnyTagSubscriptionsAsync(It.IsAny<CancellationToken>())).ReturnsAsync(subscriptions);

    [Fact]
    public async Task Each_subscriber_gets_only_the_events_it_chose_and_any_tag_subscribers_only_tags_with_their_prefix()
    {
        _callbacks.Setup(c => c.GetSubscriptionsAsync(MonTag, It.IsAny<CancellationToken>())).ReturnsAsync(
        [
            new Subscription("own-all", "montag", new Uri("https://hooks.example.com/a"), T0),
            new Subscription("own-expired", "montag", new Uri("https://hooks.example.com/b"), T0) { Events = [TagEvent.Expired] },
        ]);
        AnyTagSubscribers(
            new Subscription("any-completed", null, new Uri("https://hooks.example.com/c"), T0) { Events = [TagEvent.Completed] },
            new Subscription("any-changed", null, new Uri("https://hooks.example.com/d"), T0) { Events = [TagEvent.Changed] },
            new Subscription("mon-prefix", null, new Uri("https://hooks.example.com/e"), T0) { TagPrefix = "mon" },
            new Subscription("other-prefix", null, new Uri("https://hooks.example.com/f"), T0) { TagPrefix = "promo" });

        var rows = await new CallbackObserver(_callbacks.Object).OnChangeAsync(Pending, Complete, OptOutChanges.None, default);

        var deliveries = rows.Cast<CallbackDelivery>().ToList();
        Assert.Equal(["own-all", "any-completed", "mon-prefix"], deliveries.Select(d => d.Subscription.Id));
        Assert.All(deliveries, d => Assert.Equal(TagEvent.Completed, d.EventType));
        Assert.Single(deliveries.Select(d => d.EventId).Distinct());
    }

    [Fact]
    public async Task A_change_writes_one_outbox_row_per_subscription()
    {
        Subscribers("a1", "b2", "c3");

        var rows = (await new CallbackObserver(_callbacks.Object).OnChangeAsync(Pending, Complete, OptOutChanges.None, default)).Cast<CallbackDelivery>().ToList();

        Assert.Equal(["a1", "b2", "c3"], rows.Select(r => r.Subscription.Id));
        Assert.All(rows, r => Assert.Equal("tag.completed", r.EventType));
        Assert.All(rows, r => Assert.Equal("montag", r.Tag));
        Assert.All(rows, r => Assert.Equal(Complete.RefreshedAt, r.CreatedAt));
    }

    [Fact]
    public async Task Every_subscriber_gets_the_same_event_id_and_bytes()
    {
        Subscribers("a1", "b2");

        var rows = (await new CallbackObserver(_callbacks.Object).OnChangeAsync(Pending, Complete, OptOutChanges.None, default)).Cast<CallbackDelivery>().ToList();

        Assert.Single(rows.Select(r => r.EventId).Distinct());
        Assert.Equal(rows[0].Body, rows[1].Body);
        Assert.Equal(32, rows[0].EventId.Length);
    }

    [Fact]
    public async Task The_body_is_the_event_of_the_change()
    {
        Subscribers("a1");

        var row = (CallbackDelivery)Assert.Single(await new CallbackObserver(_callbacks.Object).OnChangeAsync(Pending, Complete, OptOutChanges.None, default));

        var json = JsonNode.Parse(row.Body)!;
        Assert.Equal(row.EventId, (string?)json["id"]);
        Assert.Equal("tag.completed", (string?)json["type"]);
        Assert.Equal("montag", (string?)json["tag"]);
        Assert.Equal("complete", (string?)json["data"]!["state"]);
        Assert.Equal(2, (int?)json["data"]!["counts"]!["delivered"]);
        Assert.Equal(0, (int?)json["data"]!["counts"]!["waiting"]);
    }

    [Fact]
    public async Task Two_changes_get_different_event_ids()
    {
        Subscribers("a1");
        var observer = new CallbackObserver(_callbacks.Object);

        var first = (CallbackDelivery)Assert.Single(await observer.OnChangeAsync(Pending, Complete, OptOutChanges.None, default));
        var second = (CallbackDelivery)Assert.Single(await observer.OnChangeAsync(Pending, Complete, OptOutChanges.None, default));

        Assert.NotEqual(first.EventId, second.EventId);
    }

    [Fact]
    public async Task A_change_without_subscribers_writes_nothing()
    {
        Subscribers();

        Assert.Empty(await new CallbackObserver(_callbacks.Object).OnChangeAsync(Pending, Complete, OptOutChanges.None, default));
    }

    [Fact]
    public async Task No_change_writes_nothing_and_reads_no_subscription()
    {
        // Strict mock: any read of the subscriptions would throw.
        Assert.Empty(await new CallbackObserver(_callbacks.Object).OnChangeAsync(Pending, Pending with { RefreshedAt = Pending.RefreshedAt.AddMinutes(1) }, OptOutChanges.None, default));
        Assert.Empty(await new CallbackObserver(_callbacks.Object).OnChangeAsync(null, Pending, OptOutChanges.None, default));
    }
}
