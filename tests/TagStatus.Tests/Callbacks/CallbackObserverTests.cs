using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Testing;
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
    private static OptOutChanges OptedOut(params string[] numbers) => new(numbers, StoredOptedOutRows: 0);

    private static readonly TagSummary PendingLater = Pending with { RefreshedAt = Pending.RefreshedAt.AddMinutes(1), Counts = Pending.Counts with { OptedOut = 2 } };

    [Fact]
    public async Task Opt_outs_make_one_event_listing_every_number_for_the_subscribers_that_asked_for_it_only()
    {
        _callbacks.Setup(c => c.GetSubscriptionsAsync(MonTag, It.IsAny<CancellationToken>())).ReturnsAsync(
        [
            new Subscription("own-default", "montag", new Uri("https://hooks.example.com/a"), T0),
            new Subscription("own-optout", "montag", new Uri("https://hooks.example.com/b"), T0) { Events = [TagEvent.OptedOut] },
        ]);
        AnyTagSubscribers(
            new Subscription("any-optout-mon", null, new Uri("https://hooks.example.com/c"), T0) { Events = [TagEvent.OptedOut], TagPrefix = "mon" },
            new Subscription("any-optout-promo", null, new Uri("https://hooks.example.com/d"), T0) { Events = [TagEvent.OptedOut], TagPrefix = "promo" },
            new Subscription("any-all", null, new Uri("https://hooks.example.com/e"), T0) { Events = TagEvent.Types });

        var rows = (await new CallbackObserver(_callbacks.Object).OnChangeAsync(Pending with { Counts = Pending.Counts with { OptedOut = 0 } }, PendingLater, OptedOut("+33600000001", "+33600000002"), default))
            .Cast<CallbackDelivery>().ToList();

        Assert.Equal(["own-optout", "any-optout-mon", "any-all"], rows.Select(r => r.Subscription.Id));
        Assert.All(rows, r => Assert.Equal(TagEvent.OptedOut, r.EventType));
        Assert.Single(rows.Select(r => r.EventId).Distinct());
        var json = JsonNode.Parse(rows[0].Body)!;
        Assert.Equal("recipient.optedOut", (string?)json["type"]);
        Assert.Equal(["+33600000001", "+33600000002"], json["data"]!["phoneNumbers"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(0, (int?)json["data"]!["unlisted"]);
        Assert.Equal(2, (int?)json["data"]!["counts"]!["optedOut"]);
    }

    [Fact]
    public async Task A_change_that_settles_the_tag_and_opts_numbers_out_makes_two_events()
    {
        _callbacks.Setup(c => c.GetSubscriptionsAsync(MonTag, It.IsAny<CancellationToken>()))
            .ReturnsAsync([new Subscription("all", "montag", new Uri("https://hooks.example.com/a"), T0) { Events = TagEvent.Types }]);

        var rows = (await new CallbackObserver(_callbacks.Object).OnChangeAsync(Pending, Complete, OptedOut("+33600000001"), default)).Cast<CallbackDelivery>().ToList();

        Assert.Equal([TagEvent.Completed, TagEvent.OptedOut], rows.Select(r => r.EventType));
        Assert.NotEqual(rows[0].EventId, rows[1].EventId);
        Assert.Null(JsonNode.Parse(rows[0].Body)!["data"]!["phoneNumbers"]);
    }

    [Fact]
    public async Task Beyond_the_cap_the_event_lists_the_first_numbers_and_counts_the_rest()
    {
        _callbacks.Setup(c => c.GetSubscriptionsAsync(MonTag, It.IsAny<CancellationToken>()))
            .ReturnsAsync([new Subscription("optout", "montag", new Uri("https://hooks.example.com/a"), T0) { Events = [TagEvent.OptedOut] }]);
        var numbers = Enumerable.Range(0, TagEvent.MaxOptedOutNumbers + 7).Select(i => $"+3361{i:D7}").ToArray();

        var row = (CallbackDelivery)Assert.Single(await new CallbackObserver(_callbacks.Object).OnChangeAsync(Pending, PendingLater, OptedOut(numbers), default));

        var data = JsonNode.Parse(row.Body)!["data"]!;
        Assert.Equal(numbers.Take(TagEvent.MaxOptedOutNumbers), data["phoneNumbers"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(7, (int?)data["unlisted"]);
    }

    [Fact]
    public async Task Opt_outs_an_interrupted_save_left_unreported_are_counted_in_an_event_of_their_own()
    {
        _callbacks.Setup(c => c.GetSubscriptionsAsync(MonTag, It.IsAny<CancellationToken>()))
            .ReturnsAsync([new Subscription("optout", "montag", new Uri("https://hooks.example.com/a"), T0) { Events = [TagEvent.OptedOut] }]);
        var reported = Pending with { Counts = Pending.Counts with { OptedOut = 0 } };

        var row = (CallbackDelivery)Assert.Single(await new CallbackObserver(_callbacks.Object).OnChangeAsync(reported, PendingLater, new OptOutChanges([], StoredOptedOutRows: 2), default));

        var data = JsonNode.Parse(row.Body)!["data"]!;
        Assert.Empty(data["phoneNumbers"]!.AsArray());
        Assert.Equal(2, (int?)data["unlisted"]);
    }

    [Fact]
    public async Task A_first_read_and_a_change_of_opt_outs_alone_make_no_state_event()
    {
        // Strict mock: a first read reads no subscription at all; opt-out counts alone are not a tag.changed.
        Assert.Empty(await new CallbackObserver(_callbacks.Object).OnChangeAsync(null, PendingLater, OptedOut("+33600000001"), default));
        Subscribers("default-events");
        Assert.Empty(await new CallbackObserver(_callbacks.Object).OnChangeAsync(Pending, PendingLater, OptedOut("+33600000001"), default));
    }

    private static Subscription[] Many(string prefix, string? tag, int count) =>
        [.. Enumerable.Range(0, count).Select(i => new Subscription($"{prefix}{i:D3}", tag, new Uri($"https://hooks.example.com/{prefix}{i}"), T0.AddMinutes(count - i)) { Events = TagEvent.Types })];

    [Fact]
    public async Task Subscriptions_stored_over_todays_caps_all_get_an_event_while_its_rows_fit_the_transaction()
    {
        _callbacks.Setup(c => c.GetSubscriptionsAsync(MonTag, It.IsAny<CancellationToken>())).ReturnsAsync(Many("own", "montag", 60));
        AnyTagSubscribers(Many("any", null, 30));
        var logger = new FakeLogger<CallbackObserver>();

        var rows = await new CallbackObserver(_callbacks.Object, logger).OnChangeAsync(Pending, Complete, OptOutChanges.None, default);

        Assert.Equal(90, rows.Count);
        Assert.Equal(0, logger.Collector.Count);
    }

    [Fact]
    public async Task Two_events_over_the_room_go_to_the_tags_own_oldest_subscribers_first_and_the_rest_are_named_in_a_warning()
    {
        // 60 of the tag's own and 30 of any tag's, stored under caps since lowered: 2 x 90 rows would not fit one transaction.
        _callbacks.Setup(c => c.GetSubscriptionsAsync(MonTag, It.IsAny<CancellationToken>())).ReturnsAsync(Many("own", "montag", 60));
        AnyTagSubscribers(Many("any", null, 30));
        var logger = new FakeLogger<CallbackObserver>();

        var rows = (await new CallbackObserver(_callbacks.Object, logger).OnChangeAsync(Pending, Complete, OptedOut("+33600000001"), default)).Cast<CallbackDelivery>().ToList();

        // With the summary and the range layout row: 100 actions, what one transaction takes.
        Assert.Equal(CallbackObserver.MaxDeliveryRows, rows.Count);
        Assert.Equal(TagStatus.Core.Storage.TableTagStore.MaxBatch, CallbackObserver.MaxDeliveryRows + 2);
        foreach (var type in new[] { TagEvent.Completed, TagEvent.OptedOut })
        {
            // Many() makes later ids older: own059 is the oldest of the tag's own.
            var ids = rows.Where(r => r.EventType == type).Select(r => r.Subscription.Id).ToList();
            Assert.Equal(Enumerable.Range(11, 49).Select(i => $"own{i:D3}").Reverse(), ids);
        }

        Assert.Equal(2, logger.Collector.Count);
        Assert.All(logger.Collector.GetSnapshot(), record =>
        {
            Assert.Equal(5108, record.Id.Id);
            Assert.Contains("own010", record.Message, StringComparison.Ordinal);
            Assert.Contains("any029", record.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("own011", record.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("hooks.example.com", record.Message, StringComparison.Ordinal); // callback URLs can carry tokens
        });
    }

    [Fact]
    public async Task The_state_event_takes_the_room_the_opt_out_event_does_not_need()
    {
        // 90 of the tag's own with the default events (no opt-outs), 20 of any tag's for opt-outs only: 110 rows in all.
        _callbacks.Setup(c => c.GetSubscriptionsAsync(MonTag, It.IsAny<CancellationToken>()))
            .ReturnsAsync([.. Many("own", "montag", 90).Select(s => s with { Events = TagEvent.StateTypes })]);
        AnyTagSubscribers([.. Many("any", null, 20).Select(s => s with { Events = [TagEvent.OptedOut] })]);
        var logger = new FakeLogger<CallbackObserver>();

        var rows = (await new CallbackObserver(_callbacks.Object, logger).OnChangeAsync(Pending, Complete, OptedOut("+33600000001"), default)).Cast<CallbackDelivery>().ToList();

        Assert.Equal(78, rows.Count(r => r.EventType == TagEvent.Completed));
        Assert.Equal(20, rows.Count(r => r.EventType == TagEvent.OptedOut));
        var warning = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Contains("12: own011, own010,", warning.Message, StringComparison.Ordinal);
    }
}
