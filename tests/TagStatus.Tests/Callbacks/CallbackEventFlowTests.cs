using Azure;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using TagStatus.Core.Refresh;
using TagStatus.Core.Storage;
using TagStatus.Tests.Support;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Callbacks;

/// <summary>The real refresher with the real callback observer: which refreshes put events in the outbox.</summary>
public sealed class CallbackEventFlowTests
{
    private static readonly Tag MonTag = LookupFixture.MonTag;

    private readonly LookupFixture _f = new();
    private readonly Mock<ICallbackStore> _callbacks = new();
    private readonly List<(TagSummary Summary, IReadOnlyList<TagCompanionRow> Companions)> _saves = [];

    public CallbackEventFlowTests()
    {
        _callbacks.Setup(c => c.GetAnyTagSubscriptionsAsync(It.IsAny<CancellationToken>())).ReturnsAsync([]);
        _callbacks.Setup(c => c.GetSubscriptionsAsync(MonTag, It.IsAny<CancellationToken>()))
            .ReturnsAsync([new Subscription("5ub5000000000000000000000000000a", "montag", new Uri("https://hooks.example.com/run"), T0)]);
        _f.Store.Setup(s => s.SaveRefreshAsync(
                It.IsAny<IReadOnlyList<RecipientWrite>>(), It.IsAny<TagSummary>(), It.IsAny<StoredSummary?>(), It.IsAny<IReadOnlyList<TagCompanionRow>>(), It.IsAny<CancellationToken>()))
            .Callback((IReadOnlyList<RecipientWrite> _, TagSummary summary, StoredSummary? _, IReadOnlyList<TagCompanionRow> companions, CancellationToken _) =>
                _saves.Add((summary, companions)))
            .ReturnsAsync(1);
    }

    private TagRefresher Refresher => new(_f.Client.Object, _f.Store.Object, _f.Rules, new CallbackObserver(_callbacks.Object), _f.Time, NullLogger<TagRefresher>.Instance);

    [Fact]
    public async Task A_refresh_that_completes_a_tag_stores_a_completed_event_with_the_summary()
    {
        _f.Stored(TagState.Pending, T0.AddMinutes(30), [Recipient("+33600000001", DeliveryStatus.Delivered), Recipient("+33600000002", DeliveryStatus.Waiting)], tracked: true);
        _f.Upstream(Upstream("+33600000001", "Delivered"), Upstream("+33600000002", "Delivered"));

        await Refresher.RefreshAsync(MonTag, RefreshReason.Scheduled, default);

        var (summary, companions) = Assert.Single(_saves);
        Assert.Equal(TagState.Complete, summary.State);
        var row = Assert.IsType<CallbackDelivery>(Assert.Single(companions));
        Assert.Equal(TagEvent.Completed, row.EventType);
    }

    [Fact]
    public async Task A_refresh_that_changes_nothing_stores_no_event()
    {
        _f.Stored(TagState.Pending, T0.AddMinutes(30), [Recipient("+33600000001", DeliveryStatus.Waiting)], tracked: true);
        _f.Upstream(Upstream("+33600000001", "Waiting"));

        await Refresher.RefreshAsync(MonTag, RefreshReason.Scheduled, default);

        Assert.Empty(Assert.Single(_saves).Companions);
    }

    [Fact]
    public async Task A_partial_answer_never_reopens_a_complete_tag_nor_queues_an_event()
    {
        _f.Stored(TagState.Complete, T0.AddMinutes(30), [Recipient("+33600000001", DeliveryStatus.Delivered), Recipient("+33600000002", DeliveryStatus.Delivered)], tracked: true);
        _f.Upstream(complete: false, Upstream("+33600000001", "Delivered"));

        await Refresher.RefreshAsync(MonTag, RefreshReason.Lookup, default);

        var (summary, companions) = Assert.Single(_saves);
        Assert.Equal(TagState.Complete, summary.State);
        Assert.Empty(companions);
    }
}
