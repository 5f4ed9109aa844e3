using System.Net;
using Azure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using TagStatus.Core.Refresh;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.Tests.Support;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Callbacks;

public sealed class SubscriptionServiceTests
{
    private static readonly Tag MonTag = LookupFixture.MonTag;
    private const string GoodUrl = "https://hooks.example.com/workflows/run?sig=abc";

    private readonly LookupFixture _f = new();
    private readonly Mock<ICallbackStore> _callbacks = new();
    private readonly CallbackOptions _options = new();
    private readonly List<string> _order = [];

    public SubscriptionServiceTests()
    {
        _callbacks.Setup(c => c.GetSubscriptionsAsync(MonTag, It.IsAny<CancellationToken>())).ReturnsAsync([]);
        _callbacks.Setup(c => c.AddSubscriptionAsync(It.IsAny<Subscription>(), It.IsAny<CancellationToken>()))
            .Callback(() => _order.Add("add")).Returns(Task.CompletedTask);
        _f.Store.Setup(s => s.SaveSummaryAsync(It.IsAny<TagSummary>(), It.IsAny<ETag?>(), It.IsAny<CancellationToken>()))
            .Callback((TagSummary summary, ETag? _, CancellationToken _) => _order.Add(summary.Tracked ? "save-tracked" : "save"))
            .Returns(Task.CompletedTask);
        // The touch after subscribing writes no recipient; a refresh's save (recorded by the fixture) does, ahead of its summary.
        _f.Store.Setup(s => s.SaveRefreshAsync(It.Is<IReadOnlyList<RecipientWrite>>(w => w.Count == 0 && _f.PendingWrites.Count == 0), It.IsAny<TagSummary>(), It.IsAny<StoredSummary?>(), It.IsAny<IReadOnlyList<TagCompanionRow>>(), It.IsAny<CancellationToken>()))
            .Callback((IReadOnlyList<RecipientWrite> _, TagSummary summary, StoredSummary? _, IReadOnlyList<TagCompanionRow> owed, CancellationToken _) =>
            {
                _order.Add("touch");
                _owed.AddRange(owed);
            })
            .ReturnsAsync(1);
    }

    private readonly List<TagCompanionRow> _owed = [];

    private SubscriptionService Service
    {
        get
        {
            var options = Options.Create(_options);
            var policy = new CallbackUrlPolicy(options, (host, _) => Task.FromResult(host switch
            {
                "hooks.example.com" => new[] { IPAddress.Parse("93.184.216.34") },
                "intranet.example.com" => [IPAddress.Parse("10.0.0.7")],
                _ => [],
            }));
            var tracking = new TrackingService(_f.Store.Object, _f.InlineRead, _f.Rules, new NoTagChangeObserver(), _f.Time, NullLogger<TrackingService>.Instance);
            return new SubscriptionService(_callbacks.Object, _f.Store.Object, tracking, policy, new FixedSecrets(), options, _f.Time);
        }
    }

    private void Existing(int count) =>
        _callbacks.Setup(c => c.GetSubscriptionsAsync(MonTag, It.IsAny<CancellationToken>()))
            .ReturnsAsync(Enumerable.Range(0, count).Select(i => new Subscription($"{i:x32}", "montag", new Uri($"https://hooks.example.com/{i}"), T0)).ToList());

    private void VerifyNothingWritten()
    {
        _callbacks.Verify(c => c.AddSubscriptionAsync(It.IsAny<Subscription>(), It.IsAny<CancellationToken>()), Times.Never);
        _f.Store.Verify(s => s.SaveSummaryAsync(It.IsAny<TagSummary>(), It.IsAny<ETag?>(), It.IsAny<CancellationToken>()), Times.Never);
        Assert.Empty(_f.Saved);
        _f.VerifyNoUpstreamCall();
    }

    [Theory]
    [InlineData("http://hooks.example.com/workflows/run", "https")]
    [InlineData("https://intranet.example.com/hook", "private")]
    [InlineData("https://127.0.0.1/hook", "loopback")]
    [InlineData("not a url", "absolute URL")]
    [InlineData(null, "absolute URL")]
    public async Task A_bad_callback_url_is_rejected_naming_callbackUrl_and_nothing_is_written(string? url, string why)
    {
        var result = await Service.SubscribeAsync(MonTag, new(url), default);

        var rejected = Assert.IsType<SubscribeResult.Rejected>(result);
        Assert.Equal("callbackUrl", rejected.Parameter);
        Assert.Contains("callbackUrl", rejected.Detail);
        Assert.Contains(why, rejected.Detail);
        VerifyNothingWritten();
    }

    [Fact]
    public async Task A_subscription_past_the_limit_per_tag_is_rejected()
    {
        _options.MaxSubscriptionsPerTag = 3;
        Existing(3);

        var result = await Service.SubscribeAsync(MonTag, new(GoodUrl), default);

        var rejected = Assert.IsType<SubscribeResult.Rejected>(result);
        Assert.Equal("callbackUrl", rejected.Parameter);
        Assert.Contains("MaxSubscriptionsPerTag", rejected.Detail);
        Assert.Contains("3", rejected.Detail);
        VerifyNothingWritten();
    }

    [Fact]
    public async Task The_last_subscription_under_the_limit_is_accepted()
    {
        _options.MaxSubscriptionsPerTag = 3;
        Existing(2);
        _f.Stored(TagState.Pending, T0, [Recipient("+33600000001", DeliveryStatus.Waiting)], tracked: true);

        Assert.IsType<SubscribeResult.Created>(await Service.SubscribeAsync(MonTag, new(GoodUrl), default));
    }

    [Fact]
    public async Task A_subscription_is_stored_with_a_fresh_id_its_url_and_now()
    {
        _f.Stored(TagState.Pending, T0, [Recipient("+33600000001", DeliveryStatus.Waiting)], tracked: true);
        Subscription? added = null;
        _callbacks.Setup(c => c.AddSubscriptionAsync(It.IsAny<Subscription>(), It.IsAny<CancellationToken>()))
            .Callback((Subscription s, CancellationToken _) => added = s).Returns(Task.CompletedTask);

        var created = Assert.IsType<SubscribeResult.Created>(await Service.SubscribeAsync(MonTag, new(GoodUrl), default)).Subscription;

        Assert.Equal(created, added);
        Assert.Matches("^[0-9a-f]{32}$", created.Id);
        Assert.Equal("montag", created.Tag);
        Assert.Equal(new Uri(GoodUrl), created.CallbackUrl);
        Assert.Equal(_f.Now, created.CreatedAt);
    }

    [Fact]
    public async Task Two_subscriptions_get_different_ids()
    {
        _f.Stored(TagState.Pending, T0, [Recipient("+33600000001", DeliveryStatus.Waiting)], tracked: true);

        var first = Assert.IsType<SubscribeResult.Created>(await Service.SubscribeAsync(MonTag, new(GoodUrl), default)).Subscription;
        var second = Assert.IsType<SubscribeResult.Created>(await Service.SubscribeAsync(MonTag, new(GoodUrl), default)).Subscription;

        Assert.NotEqual(first.Id, second.Id);
    }

    [Fact]
    public async Task Subscribing_to_an_unknown_tag_starts_tracking_it()
    {
        _f.Upstream(Upstream("+33600000001", "Waiting"));

        Assert.IsType<SubscribeResult.Created>(await Service.SubscribeAsync(MonTag, new(GoodUrl), default));

        var saved = Assert.Single(_f.Saved);
        Assert.True(saved.Summary.Tracked);
        _callbacks.Verify(c => c.AddSubscriptionAsync(It.IsAny<Subscription>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task Subscribing_to_a_stored_untracked_tag_tracks_it_before_adding_the_subscriber()
    {
        _f.Stored(TagState.Pending, T0, [Recipient("+33600000001", DeliveryStatus.Waiting)], tracked: false);

        Assert.IsType<SubscribeResult.Created>(await Service.SubscribeAsync(MonTag, new(GoodUrl), default));

        Assert.Equal("save-tracked", _order[0]);
        Assert.Equal("add", _order[1]);
    }

    [Fact]
    public async Task Subscribing_rewrites_the_summary_after_adding_so_its_etag_moves()
    {
        var stored = _f.Stored(TagState.Pending, T0, [Recipient("+33600000001", DeliveryStatus.Waiting)], tracked: true, etag: "summary-9");

        Assert.IsType<SubscribeResult.Created>(await Service.SubscribeAsync(MonTag, new(GoodUrl), default));

        Assert.Equal(["add", "touch"], _order);
        _f.Store.Verify(s => s.SaveRefreshAsync(It.Is<IReadOnlyList<RecipientWrite>>(w => w.Count == 0), stored, It.Is<StoredSummary?>(s => s!.ETag == new ETag("summary-9")), It.IsAny<IReadOnlyList<TagCompanionRow>>(), It.IsAny<CancellationToken>()), Times.Once);
        Assert.Empty(_owed);
    }

    [Fact]
    public async Task Subscribing_to_a_tag_already_complete_owes_the_new_subscriber_its_completed_event_at_once()
    {
        _f.Stored(TagState.Complete, T0, [Recipient("+33600000001", DeliveryStatus.Delivered)], tracked: true);

        var created = Assert.IsType<SubscribeResult.Created>(await Service.SubscribeAsync(MonTag, new(GoodUrl), default));

        var owed = Assert.IsType<CallbackDelivery>(Assert.Single(_owed));
        Assert.Equal(TagEvent.Completed, owed.EventType);
        Assert.Equal(created.Subscription.Id, owed.Subscription.Id);
    }

    [Fact]
    public async Task A_conflict_while_touching_the_summary_is_retried_then_harmless()
    {
        _f.Stored(TagState.Pending, T0, [Recipient("+33600000001", DeliveryStatus.Waiting)], tracked: true);
        _f.Store.Setup(s => s.SaveRefreshAsync(It.IsAny<IReadOnlyList<RecipientWrite>>(), It.IsAny<TagSummary>(), It.IsAny<StoredSummary?>(), It.IsAny<IReadOnlyList<TagCompanionRow>>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreConflictException("moved"));

        Assert.IsType<SubscribeResult.Created>(await Service.SubscribeAsync(MonTag, new(GoodUrl), default));
        _f.Store.Verify(s => s.SaveRefreshAsync(It.IsAny<IReadOnlyList<RecipientWrite>>(), It.IsAny<TagSummary>(), It.IsAny<StoredSummary?>(), It.IsAny<IReadOnlyList<TagCompanionRow>>(), It.IsAny<CancellationToken>()), Times.Exactly(4));
    }

    [Fact]
    public async Task A_storage_outage_surfaces_to_the_caller()
    {
        _f.Stored(TagState.Pending, T0, [Recipient("+33600000001", DeliveryStatus.Waiting)], tracked: true);
        _callbacks.Setup(c => c.AddSubscriptionAsync(It.IsAny<Subscription>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreUnavailableException("down"));

        await Assert.ThrowsAsync<StoreUnavailableException>(() => Service.SubscribeAsync(MonTag, new(GoodUrl), default));
    }

    [Fact]
    public async Task An_upstream_failure_still_subscribes_a_new_tag()
    {
        _f.UpstreamFails(new SmsPartnerUnavailableException("down"));

        Assert.IsType<SubscribeResult.Created>(await Service.SubscribeAsync(MonTag, new(GoodUrl), default));

        _callbacks.Verify(c => c.AddSubscriptionAsync(It.IsAny<Subscription>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Unsubscribing_reports_whether_the_subscription_existed(bool existed)
    {
        _callbacks.Setup(c => c.RemoveSubscriptionAsync(MonTag, "0123456789abcdef0123456789abcdef", It.IsAny<CancellationToken>())).ReturnsAsync(existed);

        Assert.Equal(existed, await Service.UnsubscribeAsync(MonTag, "0123456789abcdef0123456789abcdef", default));
    }
}
