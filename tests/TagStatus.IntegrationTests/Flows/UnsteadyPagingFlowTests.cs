using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using SmsPartner.Simulator;
using TagStatus.Api.Handlers;
using TagStatus.Core.Domain;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.IntegrationTests.Flows;

/// <summary>
/// Issue 12 against the simulator: an upstream whose order moves while its pages are read, and one that ignores
/// <c>page</c>. Counts stay honest, the partial read shows, and the tag never completes while a message is unaccounted for.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class UnsteadyPagingFlowTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly Tag Campaign = Tag.Parse("unsteady");
    private AppHarness _app = null!;

    private SimulatorState Simulator => _app.Simulator.State;

    public async Task InitializeAsync() => _app = await AppHarness.StartAsync(azurite);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static string Phone(int i) => $"+336{i:D8}";

    private void Seed(int count, Func<int, string> status) =>
        Simulator.SeedTag(Campaign.Value, Enumerable.Range(1, count).Select(i => new RecipientSeed { PhoneNumber = Phone(i), Status = status(i) }));

    /// <summary><c>GET /api/tags/unsteady?maxAge=0</c>: a live read through the real handler.</summary>
    private async Task<JsonNode> LookupLiveAsync()
    {
        var answer = await _app.GetTagAsync(Campaign.Value, "?maxAge=0&pageSize=1000");
        Assert.Equal(200, answer.Status);
        return answer.Json;
    }

    private async Task<IReadOnlyList<Recipient>> StoredRowsAsync() =>
        [.. (await _app.Get<ITagStore>().GetRecipientsAsync(Campaign, default)).Select(r => r.Recipient)];

    [Fact]
    public async Task Pages_that_shift_between_reads_never_store_a_row_twice_nor_complete_on_a_short_read()
    {
        // 45 messages, all delivered: only a read that sees every one of them may complete the tag.
        Seed(45, _ => "Delivered");
        Simulator.Paging = Simulator.Paging with { PageSize = 10, ShiftPerRequest = 3 };
        var partialReads = 0;

        for (var read = 0; read < 6; read++)
        {
            var answer = await LookupLiveAsync();
            var rows = await StoredRowsAsync();

            Assert.All(rows.GroupBy(r => r.PhoneNumber), number => Assert.Single(number));
            Assert.Equal(rows.Count, (int)answer["counts"]!["total"]!);
            Assert.Equal(45, (int?)answer["upstreamTotal"]);
            if ((bool)answer["partial"]!)
            {
                partialReads++;
                Assert.False(string.IsNullOrEmpty((string?)answer["partialReason"]));
            }

            if ((string?)answer["state"] == "complete")
            {
                Assert.Equal(45, rows.Count);
            }
            else
            {
                Assert.Equal("pending", (string?)answer["state"]);
            }

            _app.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.True(partialReads > 0, "No read was partial: the simulator's pages did not shift.");
    }

    [Fact]
    public async Task An_upstream_that_ignores_page_shows_a_partial_read_and_expires_rather_than_completes()
    {
        Seed(25, _ => "Delivered");
        Simulator.Paging = Simulator.Paging with { PageSize = 20, IgnorePage = true };

        var first = await LookupLiveAsync();

        Assert.Equal("pending", (string?)first["state"]);
        Assert.Equal(20, (int)first["counts"]!["total"]!);
        Assert.Equal(20, (int)first["counts"]!["delivered"]!);
        Assert.Equal(25, (int?)first["upstreamTotal"]);
        Assert.True((bool)first["partial"]!);
        Assert.Contains("page", (string?)first["partialReason"], StringComparison.Ordinal);
        Assert.True((bool)first["tracked"]!);

        // The timer keeps reading it; every read is as short, so the window closes on it.
        var options = new TrackingOptions();
        _app.Advance(options.Window + options.Margin);
        await _app.RunTimerAndQueuesAsync();

        var summary = (await _app.Get<ITagStore>().GetSummaryAsync(Campaign, default))!.Summary;
        Assert.Equal(TagState.Expired, summary.State);
        Assert.True(summary.Partial);
        Assert.Equal(20, summary.Counts.Total);
        Assert.Equal(25, summary.UpstreamTotal);
    }

    [Fact]
    public async Task A_settled_tag_reused_for_a_new_campaign_reopens_on_its_re_check()
    {
        Seed(3, _ => "Delivered");
        var registered = await _app.Get<TrackingService>().RegisterAsync(Campaign, default);
        Assert.Equal(TagState.Complete, registered.State);

        Seed(5, i => i <= 3 ? "Delivered" : "Waiting");
        _app.Advance(new TrackingOptions().RecheckEvery);
        var run = await _app.RunTimerAndQueuesAsync();

        var summary = (await _app.Get<ITagStore>().GetSummaryAsync(Campaign, default))!.Summary;
        Assert.Equal([QueuedRefreshOutcome.Refreshed], run.Refreshes);
        Assert.Equal(TagState.Pending, summary.State);
        Assert.Equal(2, summary.Counts.Waiting);
        Assert.Equal(_app.Clock.GetUtcNow(), summary.WindowStart);
        Assert.True(summary.Tracked);
    }
}
