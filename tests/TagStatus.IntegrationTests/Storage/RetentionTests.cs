using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TagStatus.Core.Domain;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.IntegrationTests.Storage;

/// <summary>
/// Retention on Azurite: recipient rows in month tables, an expired month dropped whole, summaries kept until their own
/// months have passed (RetentionTests.Summaries.cs).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed partial class RetentionTests(AzuriteFixture azurite)
{
    private static readonly DateTimeOffset January = new(2025, 1, 20, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset February = new(2025, 2, 3, 9, 0, 0, TimeSpan.Zero);
    private readonly string _prefix = AzuriteFixture.UniquePrefix();
    private readonly FakeTimeProvider _time = new(January);
    private readonly RecordingPolicy _recording = new();

    private TableServiceClient Service()
    {
        var options = new TableClientOptions();
        options.AddPolicy(_recording, Azure.Core.HttpPipelinePosition.PerCall);
        return new TableServiceClient(azurite.ConnectionString, options);
    }

    private TableTagStore NewStore(int months = 13, int summaryMonths = 25) => new(
        Service(),
        Options.Create(new TagStoreOptions { ConnectionString = azurite.ConnectionString, TablePrefix = _prefix }),
        NullLogger<TableTagStore>.Instance,
        retention: Options.Create(new RetentionOptions { Months = months, SummaryMonths = summaryMonths }),
        time: _time);

    private static Recipient Delivered(string phone) => new(phone, 0, DeliveryStatus.Delivered, "Delivered", false, null);

    private static TagSummary Summary(Tag tag, DateTimeOffset firstSeen, IReadOnlyList<Recipient> recipients, string? month = null) =>
        new(tag, TagState.Complete, TagCounts.Of(recipients), Tracked: true, firstSeen, firstSeen, firstSeen, firstSeen.AddDays(1), RecipientsMonth: month);

    private async Task SaveAsync(TableTagStore store, Tag tag, DateTimeOffset firstSeen, params Recipient[] recipients)
    {
        var stored = await store.GetSummaryAsync(tag, default);
        var existing = await store.GetRecipientsAsync(tag, default);
        var writes = recipients.Select(r => new RecipientWrite(r, existing.FirstOrDefault(e => e.Recipient.PhoneNumber == r.PhoneNumber)?.ETag)).ToList();
        await store.SaveRefreshAsync(writes, Summary(tag, firstSeen, recipients), stored, [], default);
    }

    private async Task<List<string>> RecipientTablesAsync()
    {
        var names = new List<string>();
        await foreach (var table in azurite.Service.QueryAsync(TableServiceClient.CreateQueryFilter($"TableName ge {_prefix + "Recipients"} and TableName lt {_prefix + "Recipientt"}")))
        {
            names.Add(table.Name);
        }

        return names;
    }

    [Fact]
    public async Task A_tag_keeps_the_month_it_was_first_seen_in_across_a_month_boundary()
    {
        var store = NewStore();
        var tag = Tag.Parse("straddles");
        await SaveAsync(store, tag, January.AddDays(11), Delivered("+33600000001")); // 31 January
        _time.SetUtcNow(February);
        await SaveAsync(store, tag, January.AddDays(11), Delivered("+33600000001"), Delivered("+33600000002"));

        Assert.Equal("202501", (await store.GetSummaryAsync(tag, default))!.Summary.RecipientsMonth);
        Assert.Equal(2, (await store.GetRecipientsAsync(tag, default)).Count);
        // The month table of January only: no February table, and the single table of earlier versions is no longer made.
        Assert.Equal([_prefix + "Recipients202501"], await RecipientTablesAsync());
    }

    [Fact]
    public async Task A_month_dropped_its_tags_recipients_expire_and_summaries_stay()
    {
        var store = NewStore(months: 1);
        var old = Tag.Parse("january");
        var recent = Tag.Parse("february");
        await SaveAsync(store, old, January, Delivered("+33600000001"));
        _time.SetUtcNow(February);
        await SaveAsync(store, recent, February, Delivered("+33600000002"));

        // In March, with one month kept (February and the current one), January's table goes.
        _time.SetUtcNow(new DateTimeOffset(2025, 3, 2, 3, 17, 0, TimeSpan.Zero));
        var runner = new RetentionRunner(store, _time, NullLogger<RetentionRunner>.Instance);
        var dropped = await runner.RunIfDueAsync(default);

        Assert.Equal([_prefix + "Recipients202501"], dropped);
        Assert.Equal([_prefix + "Recipients202502"], await RecipientTablesAsync());
        await Assert.ThrowsAsync<RecipientsExpiredException>(() => store.GetRecipientPageAsync(old, null, 100, null, default));
        await Assert.ThrowsAsync<RecipientsExpiredException>(() => store.GetRecipientsAsync(old, default));
        Assert.Equal(1, (await store.GetSummaryAsync(old, default))!.Summary.Counts.Delivered);
        Assert.Contains((await store.ListTrackedAsync(null, 10, null, default)).Tags, s => s.Tag == old);
        Assert.Single((await store.GetRecipientPageAsync(recent, null, 100, null, default)).Recipients);
    }

    [Fact]
    public async Task A_retention_run_claims_once_per_period_and_a_replay_drops_nothing()
    {
        var store = NewStore(months: 1);
        await SaveAsync(store, Tag.Parse("january"), January, Delivered("+33600000001"));
        _time.SetUtcNow(new DateTimeOffset(2025, 3, 2, 3, 17, 0, TimeSpan.Zero));
        var runner = new RetentionRunner(store, _time, NullLogger<RetentionRunner>.Instance);

        Assert.NotEmpty(await runner.RunIfDueAsync(default));
        Assert.Empty(await runner.RunIfDueAsync(default)); // claimed: a second instance at the same firing does nothing
        Assert.Empty(await store.DropExpiredRecipientsAsync(_time.GetUtcNow(), default)); // a replay finds nothing left
    }

    [Fact]
    public async Task A_tag_stored_before_months_is_read_from_the_single_table_until_it_is_retired()
    {
        var store = NewStore(months: 1);
        var tag = Tag.Parse("legacy");
        var recipient = Delivered("+33600000009");
        // As an earlier version left it: rows in the single Recipients table, a summary without a month.
        Assert.Null(await store.GetSummaryAsync(tag, default)); // the store makes its tables on first use (Azurite)
        var service = azurite.Service;
        await service.GetTableClient(_prefix + "Recipients").CreateIfNotExistsAsync();
        await service.GetTableClient(_prefix + "Recipients").AddEntityAsync(new TableEntity(TableKeys.ForTag(tag), TableKeys.ForRecipient(recipient.PhoneNumber, 0))
        {
            ["PhoneNumber"] = recipient.PhoneNumber, ["Occurrence"] = 0, ["Status"] = "delivered", ["RawStatus"] = "Delivered", ["StopSms"] = false,
        });
        await service.GetTableClient(_prefix + "Tags").AddEntityAsync(new TableEntity(TableKeys.ForTag(tag), TableKeys.SummaryRow)
        {
            ["Tag"] = tag.Value, ["State"] = "complete", ["Tracked"] = false, ["Total"] = 1, ["Delivered"] = 1,
            ["FirstSeenAt"] = January, ["RefreshedAt"] = January,
        });

        Assert.Null((await store.GetSummaryAsync(tag, default))!.Summary.RecipientsMonth);
        Assert.Equal(recipient.PhoneNumber, Assert.Single((await store.GetRecipientPageAsync(tag, null, 10, null, default)).Recipients).PhoneNumber);

        // A month table expires: the single table goes with it, and the old tag's recipients answer as expired.
        _time.SetUtcNow(February);
        await SaveAsync(store, Tag.Parse("february"), February, Delivered("+33600000002"));
        _time.SetUtcNow(new DateTimeOffset(2025, 4, 1, 0, 0, 0, TimeSpan.Zero));
        var dropped = await store.DropExpiredRecipientsAsync(_time.GetUtcNow(), default);

        Assert.Contains(_prefix + "Recipients", dropped);
        await Assert.ThrowsAsync<RecipientsExpiredException>(() => store.GetRecipientPageAsync(tag, null, 10, null, default));
    }

    [Fact]
    public async Task Retention_lists_tables_by_name_range_and_every_row_query_names_its_partition()
    {
        var store = NewStore(months: 1);
        await store.RemoveExpiredSummariesAsync(January, default); // the one-off backfill of summary retention, over an empty store
        await SaveAsync(store, Tag.Parse("january"), January, Delivered("+33600000001"));
        _time.SetUtcNow(new DateTimeOffset(2025, 3, 2, 0, 0, 0, TimeSpan.Zero));
        _recording.Clear();

        await new RetentionRunner(store, _time, NullLogger<RetentionRunner>.Instance).RunIfDueAsync(default);
        await Assert.ThrowsAsync<RecipientsExpiredException>(() => store.GetRecipientPageAsync(Tag.Parse("january"), null, 10, null, default));

        // Besides the key range of expired summary months (bounded on both sides: SummaryRetentionTests), every row query
        // names its partition.
        Assert.All(_recording.TableQueries().Where(query => !System.Text.RegularExpressions.Regex.IsMatch(query.Filter, @"^PartitionKey gt 'seen-' and PartitionKey lt 'seen-\d{6}'$")),
            query => Assert.Contains("PartitionKey eq", query.Filter, StringComparison.Ordinal));
        var listing = Assert.Single(_recording.Requests, r => r.Method == "GET" && r.Uri.AbsolutePath.EndsWith("/Tables", StringComparison.Ordinal));
        var filter = Uri.UnescapeDataString(listing.Uri.Query.Replace('+', ' '));
        Assert.Contains($"TableName gt '{_prefix}Recipients' and TableName lt '{_prefix}Recipients202502'", filter, StringComparison.Ordinal);
    }
}
