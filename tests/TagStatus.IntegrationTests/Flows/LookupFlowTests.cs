using SmsPartner.Simulator;
using TagStatus.Core.Domain;
using TagStatus.Core.Lookup;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.IntegrationTests.Flows;

/// <summary><c>GET /api/tags/{tag}</c>'s cache policy over real Azurite and the simulator.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class LookupFlowTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly Tag Campaign = Tag.Parse("spring-sale");
    private static readonly TimeSpan OneMinute = TimeSpan.FromMinutes(1);
    private AppHarness _app = null!;

    private TagLookupService Lookup => _app.Get<TagLookupService>();

    private SimulatorState Simulator => _app.Simulator.State;

    public async Task InitializeAsync() => _app = await AppHarness.StartAsync(azurite);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private void SeedTwo(string secondStatus = SmsStatuses.Waiting, int? settleAfterSeconds = null) =>
        Simulator.SeedTag(Campaign.Value,
        [
            new RecipientSeed { PhoneNumber = "+33600000001", Status = SmsStatuses.Delivered },
            new RecipientSeed { PhoneNumber = "+33600000002", Status = secondStatus, SettleAfterSeconds = settleAfterSeconds, FinalStatus = SmsStatuses.NotDelivered },
        ]);

    [Fact]
    public async Task First_lookup_goes_live_and_stores_then_the_next_is_served_from_the_store()
    {
        SeedTwo();

        var first = Assert.IsType<LookupResult.Found>(await Lookup.LookupAsync(Campaign, OneMinute, default));
        var callsAfterFirst = Simulator.StatusRequestsFor(Campaign.Value);
        _app.Advance(TimeSpan.FromSeconds(30));
        var second = Assert.IsType<LookupResult.Found>(await Lookup.LookupAsync(Campaign, OneMinute, default));

        Assert.Equal(LookupSource.Live, first.Source);
        Assert.Equal(LookupSource.Store, second.Source);
        Assert.Equal(callsAfterFirst, Simulator.StatusRequestsFor(Campaign.Value));
        Assert.Equal(first.Summary.Counts, second.Summary.Counts);
        Assert.Equal(new TagCounts(2, 1, 0, 1, 0, OptedOut: 0), second.Summary.Counts);
        Assert.True(second.Summary.Tracked, "a lookup that finds waiting recipients starts tracking");
    }

    [Fact]
    public async Task A_status_change_upstream_shows_once_max_age_has_passed()
    {
        SeedTwo(settleAfterSeconds: 90);
        await Lookup.LookupAsync(Campaign, OneMinute, default);

        _app.Advance(TimeSpan.FromSeconds(120));
        var later = Assert.IsType<LookupResult.Found>(await Lookup.LookupAsync(Campaign, OneMinute, default));

        Assert.Equal(LookupSource.Live, later.Source);
        Assert.Equal(TagState.Complete, later.Summary.State);
        Assert.Equal(new TagCounts(2, 1, 1, 0, 0, OptedOut: 0), later.Summary.Counts);
        var stored = await _app.Get<ITagStore>().GetRecipientsAsync(Campaign, default);
        Assert.Contains(stored, r => r.Recipient.PhoneNumber == "+33600000002" && r.Recipient.Status == DeliveryStatus.NotDelivered);
    }

    [Fact]
    public async Task Max_age_zero_reads_live_even_when_fresh()
    {
        SeedTwo();
        await Lookup.LookupAsync(Campaign, OneMinute, default);
        var calls = Simulator.StatusRequestsFor(Campaign.Value);

        var forced = Assert.IsType<LookupResult.Found>(await Lookup.LookupAsync(Campaign, TimeSpan.Zero, default));

        Assert.Equal(LookupSource.Live, forced.Source);
        Assert.True(Simulator.StatusRequestsFor(Campaign.Value) > calls);
    }

    [Fact]
    public async Task A_thousand_recipient_tag_round_trips_through_the_store()
    {
        Simulator.GenerateTag(Campaign.Value, new GenerateSpec { Count = 1000, WaitingRatio = 0.5, Seed = 3 });
        Simulator.Paging = Simulator.Paging with { PageSize = 1000 }; // one page: read inline

        var live = Assert.IsType<LookupResult.Found>(await Lookup.LookupAsync(Campaign, OneMinute, default));
        var stored = Assert.IsType<LookupResult.Found>(await Lookup.LookupAsync(Campaign, OneMinute, default));

        var rows = await Lookup.ReadAllAsync(Campaign, null, default).ToListAsync();
        Assert.Equal(1000, live.Summary.Counts.Total);
        Assert.Equal(LookupSource.Store, stored.Source);
        Assert.Equal(1000, rows.Count);
        Assert.Equal(live.Summary.Counts, stored.Summary.Counts);
        Assert.Equal(TagCounts.Of(rows), stored.Summary.Counts);
    }

    [Fact]
    public async Task A_new_tag_of_more_pages_than_a_lookup_reads_inline_is_answered_202_and_completed_through_the_refresh_queue()
    {
        Simulator.GenerateTag(Campaign.Value, new GenerateSpec { Count = 300, WaitingRatio = 0, Seed = 5 });
        Simulator.Paging = Simulator.Paging with { PageSize = 20 }; // 15 pages, over the 10 read inline

        var first = await _app.GetTagAsync(Campaign.Value);
        var callsInline = Simulator.StatusRequestsFor(Campaign.Value);
        var again = await _app.GetTagAsync(Campaign.Value);
        var completion = await _app.GetCompletionAsync(Campaign.Value);
        var outcomes = new List<QueuedRefreshOutcome>();
        for (var messages = _app.Queue.TakeRefreshes(); messages.Count > 0; messages = _app.Queue.TakeRefreshes())
        {
            foreach (var message in messages)
            {
                outcomes.Add(await _app.Get<RefreshQueueProcessor>().ProcessAsync(message, default));
            }
        }

        var stored = await _app.GetTagAsync(Campaign.Value);

        Assert.Equal(202, first.Status);
        Assert.EndsWith("/api/tags/spring-sale/completion", first.Headers.Location.ToString(), StringComparison.Ordinal);
        Assert.NotEmpty(first.Headers.RetryAfter.ToString());
        Assert.Equal(10, callsInline);
        Assert.Equal(202, again.Status); // the first lookup's claim holds: no second inline read
        Assert.Equal(callsInline + 5, Simulator.StatusRequestsFor(Campaign.Value));
        Assert.Equal(202, completion.Status);
        Assert.Equal(QueuedRefreshOutcome.Refreshed, outcomes[^1]);
        Assert.Equal(200, stored.Status);
        Assert.Equal(300, (int?)stored.Json["counts"]!["total"]);
        Assert.Equal("complete", (string?)stored.Json["state"]);
    }

    [Fact]
    public async Task Upstream_down_with_data_stored_serves_it_as_stale()
    {
        SeedTwo();
        await Lookup.LookupAsync(Campaign, OneMinute, default);
        _app.Advance(TimeSpan.FromMinutes(5));
        Simulator.QueueFault(FaultKind.ServerError, count: 1000);

        var result = Assert.IsType<LookupResult.Found>(await Lookup.LookupAsync(Campaign, OneMinute, default));

        Assert.True(result.Stale);
        Assert.Equal(LookupSource.Store, result.Source);
        Assert.Equal(2, result.Summary.Counts.Total);
    }

    [Fact]
    public async Task Upstream_down_with_nothing_stored_is_unavailable()
    {
        SeedTwo();
        Simulator.QueueFault(FaultKind.ServerError, count: 1000);

        var result = Assert.IsType<LookupResult.Unavailable>(await Lookup.LookupAsync(Campaign, OneMinute, default));

        Assert.True(result.RetryAfter > TimeSpan.Zero);
        Assert.Null(await _app.Get<ITagStore>().GetSummaryAsync(Campaign, default));
    }

    [Fact]
    public async Task An_unknown_tag_with_nothing_stored_is_not_found_and_stores_nothing()
    {
        var result = await Lookup.LookupAsync(Tag.Parse("never-sent"), OneMinute, default);

        Assert.IsType<LookupResult.NotFound>(result);
        Assert.Null(await _app.Get<ITagStore>().GetSummaryAsync(Tag.Parse("never-sent"), default));
    }

    [Fact]
    public async Task A_refused_key_with_nothing_stored_is_an_upstream_failure_with_its_code()
    {
        SeedTwo();
        Simulator.SetValidKeys(["someone-elses-key"]);

        var result = Assert.IsType<LookupResult.UpstreamFailed>(await Lookup.LookupAsync(Campaign, OneMinute, default));

        Assert.Equal(10, result.UpstreamCode);
        Assert.DoesNotContain(_app.Simulator.ApiKey, result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refreshes_racing_on_one_tag_end_with_counts_the_rows_back()
    {
        Simulator.GenerateTag(Campaign.Value, new GenerateSpec { Count = 300, WaitingRatio = 0.6, SettleAfterSecondsMin = 1, SettleAfterSecondsMax = 600, Seed = 9 });
        var refresher = _app.Get<TagStatus.Core.Refresh.TagRefresher>();

        var racers = Enumerable.Range(0, 3).Select(async i =>
        {
            await Task.Yield();
            _app.Advance(TimeSpan.FromSeconds(40));
            return await refresher.RefreshAsync(Campaign, TagStatus.Core.Refresh.RefreshReason.Lookup, default);
        });
        await Task.WhenAll(racers);

        var store = _app.Get<ITagStore>();
        var summary = (await store.GetSummaryAsync(Campaign, default))!.Summary;
        var rows = (await store.GetRecipientsAsync(Campaign, default)).Select(r => r.Recipient).ToList();
        Assert.Equal(300, rows.Count);
        Assert.Equal(TagCounts.Of(rows), summary.Counts);
    }
}
