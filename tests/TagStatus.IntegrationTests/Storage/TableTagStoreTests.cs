using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TagStatus.Core.Domain;
using TagStatus.Core.Storage;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.IntegrationTests.Storage;

[Collection(AzuriteCollection.Name)]
public sealed class TableTagStoreTests(AzuriteFixture azurite)
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
    private readonly string _prefix = AzuriteFixture.UniquePrefix();

    private TableTagStore NewStore() => new(
        azurite.Service,
        Options.Create(new TagStoreOptions { ConnectionString = azurite.ConnectionString, TablePrefix = _prefix }),
        NullLogger<TableTagStore>.Instance);

    private static TagSummary Summary(Tag tag, TagCounts counts, TagState state = TagState.Pending, bool tracked = true) =>
        new(tag, state, counts, tracked, Now, Now, null, tracked ? Now.AddMinutes(1) : null);

    private static Recipient Waiting(string phone, int occurrence = 0) =>
        new(phone, occurrence, DeliveryStatus.Waiting, "Waiting", false, null);

    [Theory]
    [InlineData("a/b\\c#d?e%f")]
    [InlineData("quote'\"and\"'")]
    [InlineData("éàü-ß→中文")]
    [InlineData("x/\\#?%'\"é__________")]
    public async Task Keys_round_trip_characters_table_storage_forbids(string raw)
    {
        var tag = Tag.Parse(raw);
        var phone = "+33 6/\\#?%'\"é" + raw;
        var store = NewStore();
        var recipient = new Recipient(phone, 0, DeliveryStatus.Delivered, "Delivered", true, Now);

        await store.SaveRefreshAsync([new RecipientWrite(recipient, null)], Summary(tag, TagCounts.Of([recipient])), null, [], default);

        var summary = await store.GetSummaryAsync(tag, default);
        var rows = await store.GetRecipientsAsync(tag, default);
        Assert.Equal(tag, summary!.Summary.Tag);
        Assert.Equal(recipient, Assert.Single(rows).Recipient);
    }

    [Fact]
    public async Task A_thousand_recipients_are_written_in_transactions_within_one_partition_and_read_back()
    {
        var tag = Tag.Parse("bigcampaign");
        var recipients = Enumerable.Range(0, 1000).Select(i => Waiting($"+3360000{i:D4}")).ToList();
        var store = NewStore();

        var written = await store.SaveRefreshAsync(recipients.Select(r => new RecipientWrite(r, null)).ToList(), Summary(tag, TagCounts.Of(recipients)), null, [], default);

        Assert.Equal(1000 + 1 + 1, written); // recipients, summary, index
        var rows = await store.GetRecipientsAsync(tag, default);
        Assert.Equal(recipients.OrderBy(r => r.PhoneNumber, StringComparer.Ordinal), rows.Select(r => r.Recipient).OrderBy(r => r.PhoneNumber, StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_same_number_twice_stays_two_rows()
    {
        var tag = Tag.Parse("twice");
        var first = Waiting("+33600000001", 0);
        var second = first with { Occurrence = 1, Status = DeliveryStatus.Delivered, RawStatus = "Delivered" };
        var store = NewStore();

        await store.SaveRefreshAsync([new(first, null), new(second, null)], Summary(tag, TagCounts.Of([first, second])), null, [], default);

        var rows = await store.GetRecipientsAsync(tag, default);
        Assert.Equal(2, rows.Count);
        Assert.Contains(rows, r => r.Recipient == first);
        Assert.Contains(rows, r => r.Recipient == second);
    }

    [Fact]
    public async Task A_summary_written_with_a_stale_etag_is_refused()
    {
        var tag = Tag.Parse("raced");
        var store = NewStore();
        await store.SaveSummaryAsync(Summary(tag, TagCounts.Empty), null, default);
        var read = (await store.GetSummaryAsync(tag, default))!;
        await store.SaveSummaryAsync(read.Summary with { Tracked = false }, read.ETag, default);

        await Assert.ThrowsAsync<StoreConflictException>(() => store.SaveSummaryAsync(read.Summary, read.ETag, default));
        Assert.False((await store.GetSummaryAsync(tag, default))!.Summary.Tracked);
    }

    [Fact]
    public async Task A_recipient_changed_since_it_was_read_is_not_overwritten()
    {
        var tag = Tag.Parse("racedrow");
        var store = NewStore();
        var waiting = Waiting("+33600000002");
        await store.SaveRefreshAsync([new(waiting, null)], Summary(tag, TagCounts.Of([waiting])), null, [], default);
        var staleRead = Assert.Single(await store.GetRecipientsAsync(tag, default));
        var summary = (await store.GetSummaryAsync(tag, default))!;

        var delivered = waiting with { Status = DeliveryStatus.Delivered, RawStatus = "Delivered" };
        await store.SaveRefreshAsync([new(delivered, staleRead.ETag)], summary.Summary with { Counts = TagCounts.Of([delivered]) }, summary, [], default);

        // A slower writer that read before the delivery must not put Waiting back.
        await Assert.ThrowsAsync<StoreConflictException>(() =>
            store.SaveRefreshAsync([new(waiting with { StopSms = true }, staleRead.ETag)], summary.Summary, summary, [], default));
        Assert.Equal(DeliveryStatus.Delivered, Assert.Single(await store.GetRecipientsAsync(tag, default)).Recipient.Status);
    }

    [Fact]
    public async Task Due_tags_come_oldest_due_first_settled_ones_for_their_re_check_and_never_untracked_ones()
    {
        // Issue 12 changed this: a settled tag with a next read is due for its re-check (settled tags were never due).
        var store = NewStore();
        await store.SaveSummaryAsync(Summary(Tag.Parse("later"), TagCounts.Empty) with { NextRefreshAt = Now.AddMinutes(-1) }, null, default);
        await store.SaveSummaryAsync(Summary(Tag.Parse("sooner"), TagCounts.Empty) with { NextRefreshAt = Now.AddMinutes(-5) }, null, default);
        await store.SaveSummaryAsync(Summary(Tag.Parse("notyet"), TagCounts.Empty) with { NextRefreshAt = Now.AddMinutes(5) }, null, default);
        await store.SaveSummaryAsync(Summary(Tag.Parse("untracked"), TagCounts.Empty, tracked: false) with { NextRefreshAt = Now.AddMinutes(-7) }, null, default);
        await store.SaveSummaryAsync(Summary(Tag.Parse("recheck"), TagCounts.Empty, TagState.Complete) with { NextRefreshAt = Now.AddMinutes(-9) }, null, default);
        await store.SaveSummaryAsync(Summary(Tag.Parse("done"), TagCounts.Empty, TagState.Expired), null, default);

        var due = await store.GetDueTagsAsync(Now, 10, default);

        Assert.Equal(["recheck", "sooner", "later"], due.Select(d => d.Tag.Value));
    }

    [Fact]
    public async Task Claims_in_flight_are_the_claimed_rows_of_the_next_lease_and_not_the_rows_merely_due_within_it()
    {
        var store = NewStore();
        var lease = TimeSpan.FromMinutes(10);
        await store.SaveSummaryAsync(Summary(Tag.Parse("claimed"), TagCounts.Empty) with { NextRefreshAt = Now.AddMinutes(-1) }, null, default);
        await store.SaveSummaryAsync(Summary(Tag.Parse("finished"), TagCounts.Empty) with { NextRefreshAt = Now.AddMinutes(-2) }, null, default);
        await store.SaveSummaryAsync(Summary(Tag.Parse("soon"), TagCounts.Empty) with { NextRefreshAt = Now.AddMinutes(3) }, null, default);
        var due = await store.GetDueTagsAsync(Now, 10, default);
        foreach (var row in due)
        {
            await store.ClaimDueAsync(row, Now + lease, default);
        }

        var finished = (await store.GetClaimsInFlightAsync(Now, Now + lease, default)).Single(c => c.Tag.Value == "finished");
        await store.RemoveDueAsync(finished, default); // its refresh is done

        var inFlight = await store.GetClaimsInFlightAsync(Now, Now + lease, default);

        var claim = Assert.Single(inFlight);
        Assert.Equal(("claimed", Now + lease, true), (claim.Tag.Value, claim.DueAt, claim.Claimed));
        Assert.Empty(await store.GetClaimsInFlightAsync(Now + lease, Now + lease + lease, default)); // past the lease: due again, not in flight
        Assert.Contains(await store.GetDueTagsAsync(Now + lease, 10, default), d => d.Tag.Value == "claimed" && d.Claimed);
    }

    [Fact]
    public async Task A_row_held_for_a_lookups_refresh_is_in_flight_renewed_like_a_claim_and_gone_when_removed()
    {
        var store = NewStore();
        var lease = TimeSpan.FromMinutes(10);
        var asked = Tag.Parse("asked-big");

        var held = await store.HoldInFlightAsync(asked, Now + lease, 50, default);

        Assert.Equal(held, Assert.Single(await store.GetClaimsInFlightAsync(Now, Now + lease, default)));
        Assert.Empty(await store.GetDueTagsAsync(Now, 10, default)); // not due while held
        var renewed = await store.ClaimDueAsync(held, Now.AddMinutes(3) + lease, default);
        Assert.Equal((asked, Now.AddMinutes(3) + lease, 50, true), (renewed!.Tag, renewed.DueAt, renewed.Pages, renewed.Claimed));
        Assert.Equal(renewed, Assert.Single(await store.GetClaimsInFlightAsync(Now.AddMinutes(3), Now.AddMinutes(3) + lease, default)));
        await store.RemoveDueAsync(renewed, default);
        Assert.Empty(await store.GetClaimsInFlightAsync(Now, Now + lease + lease, default));
    }

    [Fact]
    public async Task A_row_a_refresh_proved_phantom_is_deleted_with_the_etag_it_was_read_with()
    {
        var tag = Tag.Parse("phantom");
        var store = NewStore();
        var kept = Waiting("+33600000003", 0);
        var phantom = Waiting("+33600000003", 1);
        await store.SaveRefreshAsync([new(kept, null), new(phantom, null)], Summary(tag, TagCounts.Of([kept, phantom])), null, [], default);
        var read = await store.GetRecipientsAsync(tag, default);
        var summary = (await store.GetSummaryAsync(tag, default))!;
        var phantomETag = read.Single(r => r.Recipient.Occurrence == 1).ETag;

        await store.SaveRefreshAsync([new(phantom, phantomETag, Delete: true)], summary.Summary with { Counts = TagCounts.Of([kept]) }, summary, [], default);

        Assert.Equal(kept, Assert.Single(await store.GetRecipientsAsync(tag, default)).Recipient);
    }

    [Fact]
    public async Task The_read_against_what_was_announced_and_the_window_round_trip()
    {
        var tag = Tag.Parse("partial");
        var store = NewStore();
        var summary = Summary(tag, TagCounts.Empty) with { UpstreamTotal = 25, PartialReason = "20 of 25", WindowStartedAt = Now.AddDays(2) };

        await store.SaveSummaryAsync(summary, null, default);

        // The store adds the month of its recipient rows on the first write: the month the tag was first seen.
        Assert.Equal(summary with { RecipientsMonth = "202611" }, (await store.GetSummaryAsync(tag, default))!.Summary);
    }

    [Fact]
    public async Task Tracked_tags_are_listed_newest_first_with_a_continuation_token()
    {
        var store = NewStore();
        for (var i = 0; i < 5; i++)
        {
            var summary = Summary(Tag.Parse($"tag{i}"), TagCounts.Empty) with { FirstSeenAt = Now.AddMinutes(i) };
            await store.SaveSummaryAsync(summary, null, default);
        }

        var first = await store.ListTrackedAsync(null, 3, null, default);
        var second = await store.ListTrackedAsync(null, 3, first.ContinuationToken, default);

        Assert.Equal(["tag4", "tag3", "tag2"], first.Tags.Select(t => t.Tag.Value));
        Assert.Equal(["tag1", "tag0"], second.Tags.Select(t => t.Tag.Value));
        Assert.NotNull(first.ContinuationToken);
        Assert.Null(second.ContinuationToken);
    }

    [Fact]
    public async Task An_unreachable_table_service_is_reported_as_unavailable()
    {
        var closedPort = AzuriteFixture.FreePort();
        var service = new TableServiceClient(
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:{closedPort}/devstoreaccount1;",
            new TableClientOptions { Retry = { MaxRetries = 0 } });
        var store = new TableTagStore(service, Options.Create(new TagStoreOptions { ConnectionString = "x" }), NullLogger<TableTagStore>.Instance);

        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.GetSummaryAsync(Tag.Parse("any"), default));
    }
}
