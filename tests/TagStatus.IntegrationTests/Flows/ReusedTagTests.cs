using SmsPartner.Simulator;
using TagStatus.Core.Domain;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.IntegrationTests.Flows;

/// <summary>A tag name used again after its recipients expired: over Azurite, the simulator and the real handlers.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ReusedTagTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string Name = "newsletter";

    /// <summary>Past the default 13 months of recipients, well within the 25 of summaries.</summary>
    private static readonly TimeSpan FourteenMonths = TimeSpan.FromDays(430);

    private AppHarness _app = null!;

    private SimulatorState Simulator => _app.Simulator.State;

    public async Task InitializeAsync() => _app = await AppHarness.StartAsync(azurite);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private void Seed(params string[] phones) =>
        Simulator.SeedTag(Name, phones.Select(phone => new RecipientSeed { PhoneNumber = phone, Status = SmsStatuses.Delivered }));

    /// <summary>A first campaign under the name, settled and stored; then past recipient retention, its month table dropped.</summary>
    private async Task<DateTimeOffset> FirstCampaignExpiredAsync()
    {
        Seed("+33600000001");
        var first = await _app.GetTagAsync(Name);
        Assert.Equal(200, first.Status);
        Assert.Equal("complete", first.Json["state"]!.GetValue<string>());
        var firstSeen = first.Json["firstSeenAt"]!.GetValue<DateTimeOffset>();

        _app.Advance(FourteenMonths);
        Assert.NotEmpty(await _app.Get<RetentionRunner>().RunIfDueAsync(default));
        Simulator.RemoveTag(Name);
        return firstSeen;
    }

    [Fact]
    public async Task A_name_with_no_rows_upstream_keeps_its_old_summary_and_its_recipients_answer_410()
    {
        await FirstCampaignExpiredAsync();
        var callsBefore = Simulator.StatusRequestsFor(Name);

        var lookup = await _app.GetTagAsync(Name);
        var completion = await _app.GetCompletionAsync(Name);

        Assert.Equal(410, lookup.Status);
        Assert.Contains("recipients-expired", lookup.Text, StringComparison.Ordinal);
        Assert.Equal(200, completion.Status);
        Assert.True(Simulator.StatusRequestsFor(Name) > callsBefore, "a summary past recipient retention no longer answers alone: SMS Partner is asked");
    }

    [Fact]
    public async Task A_name_used_again_starts_as_a_new_tag_first_seen_now()
    {
        var oldFirstSeen = await FirstCampaignExpiredAsync();
        Seed("+33600000002", "+33600000003");

        var lookup = await _app.GetTagAsync(Name);

        Assert.Equal(200, lookup.Status);
        Assert.Equal(_app.Clock.GetUtcNow(), lookup.Json["firstSeenAt"]!.GetValue<DateTimeOffset>());
        Assert.NotEqual(oldFirstSeen, lookup.Json["firstSeenAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal(2, lookup.Json["counts"]!["total"]!.GetValue<int>());
        Assert.Equal(["+33600000002", "+33600000003"], lookup.Json["recipients"]!.AsArray().Select(r => r!["phoneNumber"]!.GetValue<string>()).Order(StringComparer.Ordinal));

        var stored = (await _app.Get<ITagStore>().GetSummaryAsync(Tag.Parse(Name), default))!;
        Assert.False(stored.RecipientsExpired);
        Assert.Equal(RecipientMonths.Of(_app.Clock.GetUtcNow()), stored.Summary.RecipientsMonth);
    }

    [Fact]
    public async Task A_big_name_used_again_answers_202_until_the_refresh_queue_has_stored_it_anew()
    {
        await FirstCampaignExpiredAsync();
        Simulator.GenerateTag(Name, new GenerateSpec { Count = 300, WaitingRatio = 0, Seed = 16 });
        Simulator.Paging = Simulator.Paging with { PageSize = 20 }; // 15 pages, over the 10 read inline

        var first = await _app.GetTagAsync(Name);
        var whileQueued = await _app.GetTagAsync(Name); // the first lookup's claim holds: a read of the name is under way
        var outcomes = new List<QueuedRefreshOutcome>();
        for (var messages = _app.Queue.TakeRefreshes(); messages.Count > 0; messages = _app.Queue.TakeRefreshes())
        {
            foreach (var message in messages)
            {
                outcomes.Add(await _app.Get<RefreshQueueProcessor>().ProcessAsync(message, default));
            }
        }

        var after = await _app.GetTagAsync(Name, "?pageSize=1");

        Assert.Equal(202, first.Status);
        Assert.Equal(202, whileQueued.Status);
        Assert.Equal(QueuedRefreshOutcome.Refreshed, outcomes[^1]);
        Assert.Equal(200, after.Status);
        Assert.Equal(300, after.Json["counts"]!["total"]!.GetValue<int>());
        Assert.Equal(RecipientMonths.Of(_app.Clock.GetUtcNow()), (await _app.Get<ITagStore>().GetSummaryAsync(Tag.Parse(Name), default))!.Summary.RecipientsMonth);
    }
}
