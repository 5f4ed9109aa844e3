using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using TagStatus.Core.Domain;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;

namespace TagStatus.IntegrationTests.Storage;

/// <summary>Summary retention: the seen index, a summary month expired whole, the backfill of older tags.</summary>
public sealed partial class RetentionTests
{
    private static readonly DateTimeOffset March = new(2025, 3, 10, 9, 0, 0, TimeSpan.Zero);

    /// <summary>With one month of recipients and two of summaries kept, January's tags go entirely; March's keep their summary.</summary>
    private static readonly DateTimeOffset MayRun = new(2025, 5, 2, 3, 17, 0, TimeSpan.Zero);

    /// <summary>One month of recipients and two of summaries kept.</summary>
    private TableTagStore NewSummaryStore() => NewStore(months: 1, summaryMonths: 2);

    private TableClient Table(string name) => azurite.Service.GetTableClient(_prefix + name);

    /// <summary>Rows of the tag's partitions besides its summary, as subscriptions, deliveries, a claim and a pass leave them.</summary>
    private async Task AddPartitionRowsAsync(Tag tag)
    {
        var partition = TableKeys.ForTag(tag);
        var tags = Table("Tags");
        await tags.AddEntityAsync(new TableEntity(partition, TableKeys.SubscriptionPrefix + "s1") { ["Url"] = "https://example.test/hook" });
        await tags.AddEntityAsync(new TableEntity(partition, TableKeys.DeliveryPrefix + "d1") { ["Attempts"] = 1 });
        await tags.AddEntityAsync(new TableEntity(partition, TableKeys.RefreshClaimRow) { ["RefreshingUntil"] = January });
        await Table("Passes").AddEntityAsync(new TableEntity(partition, "cursor") { ["Pages"] = 1 });
        await Table("Passes").AddEntityAsync(new TableEntity(partition, "p000001") { ["R0"] = "[]" });
    }

    private static async Task<List<string>> RowKeysAsync(TableClient table, string partition)
    {
        var keys = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), select: ["RowKey"]))
        {
            keys.Add(row.RowKey);
        }

        return keys;
    }

    [Fact]
    public async Task A_tag_is_indexed_by_the_month_it_was_first_seen_before_its_summary_is_written()
    {
        var store = NewSummaryStore();
        var tag = Tag.Parse("indexed");
        // The seen row goes before the summary: with the summary's write failing, the row is there and the summary is not.
        _recording.FailWhen = (method, uri) => method == "POST" && uri.AbsolutePath.EndsWith("/$batch", StringComparison.Ordinal);
        await Assert.ThrowsAsync<StoreUnavailableException>(() => SaveAsync(store, tag, January, Delivered("+33600000001")));
        _recording.FailWhen = null;

        Assert.Null(await store.GetSummaryAsync(tag, default));
        Assert.Equal([TableKeys.ForTag(tag)], await RowKeysAsync(Table("TagIndex"), "seen-202501"));

        await SaveAsync(store, tag, January, Delivered("+33600000001"));
        Assert.Equal([TableKeys.ForTag(tag)], await RowKeysAsync(Table("TagIndex"), "seen-202501"));
    }

    [Fact]
    public async Task A_summary_month_expired_its_summaries_and_every_row_of_their_partitions_go_and_newer_tags_stay()
    {
        var store = NewSummaryStore();
        var old = Tag.Parse("january");
        var recent = Tag.Parse("march");
        await SaveAsync(store, old, January, Delivered("+33600000001"));
        await AddPartitionRowsAsync(old);
        _time.SetUtcNow(March);
        await SaveAsync(store, recent, March, Delivered("+33600000002"));
        await AddPartitionRowsAsync(recent);

        _time.SetUtcNow(MayRun);
        var runner = new RetentionRunner(store, _time, NullLogger<RetentionRunner>.Instance);
        await runner.RunIfDueAsync(default);

        Assert.Equal(1, runner.LastSummaries!.TagsRemoved);
        Assert.Null(await store.GetSummaryAsync(old, default));
        Assert.Empty(await RowKeysAsync(Table("Tags"), TableKeys.ForTag(old)));
        Assert.Empty(await RowKeysAsync(Table("Passes"), TableKeys.ForTag(old)));
        Assert.Empty(await RowKeysAsync(Table("TagIndex"), "seen-202501"));
        Assert.DoesNotContain((await store.ListTrackedAsync(null, 10, null, default)).Tags, s => s.Tag == old);
        Assert.DoesNotContain(await store.GetDueTagsAsync(MayRun.AddYears(1), 100, default), due => due.Tag == old);

        // March's tag: recipients expired (one month kept), summary and every other row kept (two months).
        Assert.Equal(1, (await store.GetSummaryAsync(recent, default))!.Summary.Counts.Delivered);
        Assert.Equal(4, (await RowKeysAsync(Table("Tags"), TableKeys.ForTag(recent))).Count); // summary, subscription, delivery, claim
        Assert.Equal(2, (await RowKeysAsync(Table("Passes"), TableKeys.ForTag(recent))).Count);
        Assert.Contains((await store.ListTrackedAsync(null, 10, null, default)).Tags, s => s.Tag == recent);
        Assert.Contains(await store.GetDueTagsAsync(MayRun.AddYears(1), 100, default), due => due.Tag == recent);
        await Assert.ThrowsAsync<RecipientsExpiredException>(() => store.GetRecipientPageAsync(recent, null, 10, null, default));

        // A replay removes nothing more.
        Assert.Equal(0, (await store.RemoveExpiredSummariesAsync(MayRun, default)).TagsRemoved);
    }

    [Fact]
    public async Task Tags_stored_before_the_seen_index_are_backfilled_once_then_expire_like_the_others()
    {
        var store = NewSummaryStore();
        var old = Tag.Parse("before-index");
        await SaveAsync(store, old, January, Delivered("+33600000001"));
        // As an earlier version left it: a summary and no seen row.
        await Table("TagIndex").DeleteEntityAsync("seen-202501", TableKeys.ForTag(old));

        var first = await store.RemoveExpiredSummariesAsync(March, default);
        Assert.Equal((0, 1, true), (first.TagsRemoved, first.TagsBackfilled, first.BackfillDone));
        Assert.Equal([TableKeys.ForTag(old)], await RowKeysAsync(Table("TagIndex"), "seen-202501"));

        // Done: later runs do not read the Tags table without a partition again.
        _recording.Clear();
        var later = await store.RemoveExpiredSummariesAsync(MayRun, default);
        Assert.Equal((1, 0, true), (later.TagsRemoved, later.TagsBackfilled, later.BackfillDone));
        Assert.Null(await store.GetSummaryAsync(old, default));
        Assert.DoesNotContain(_recording.TableQueries(), query => query.Table == _prefix + "Tags" && !query.Filter.Contains("PartitionKey eq", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Every_query_of_a_retention_run_after_the_backfill_is_partition_scoped()
    {
        var store = NewSummaryStore();
        await store.RemoveExpiredSummariesAsync(January, default); // the backfill, over an empty store: done
        await SaveAsync(store, Tag.Parse("january"), January, Delivered("+33600000001"));
        await AddPartitionRowsAsync(Tag.Parse("january"));
        _time.SetUtcNow(MayRun);
        _recording.Clear();

        await new RetentionRunner(store, _time, NullLogger<RetentionRunner>.Instance).RunIfDueAsync(default);

        // Removing a tag reads its own partitions; the seen index is read by a key range of expired months only.
        var queries = _recording.TableQueries();
        Assert.Contains(queries, query => query.Filter.Contains("PartitionKey eq", StringComparison.Ordinal));
        Assert.All(queries, query => Assert.True(
            query.Filter.StartsWith("PartitionKey eq", StringComparison.Ordinal) || query.Filter == "PartitionKey gt 'seen-' and PartitionKey lt 'seen-202503'",
            $"{query.Table}: {query.Filter}"));
    }

    [Fact]
    public async Task A_summary_written_again_under_a_later_month_is_not_removed_with_the_old_month()
    {
        var store = NewSummaryStore();
        var tag = Tag.Parse("started-again");
        await SaveAsync(store, tag, January, Delivered("+33600000001"));
        // The name started again in March (its old life forgotten): a summary of March, and the old seen row left behind.
        _time.SetUtcNow(March);
        var stored = (await store.GetSummaryAsync(tag, default))!;
        Assert.True(stored.RecipientsExpired);
        await store.RestartExpiredTagAsync(stored, default);
        Assert.Null(await store.GetSummaryAsync(tag, default));
        await SaveAsync(store, tag, March, Delivered("+33600000002"));
        await Table("TagIndex").UpsertEntityAsync(new TableEntity("seen-202501", TableKeys.ForTag(tag)) { ["Tag"] = tag.Value });

        var result = await store.RemoveExpiredSummariesAsync(MayRun, default);

        Assert.Equal(0, result.TagsRemoved);
        Assert.Equal(March, (await store.GetSummaryAsync(tag, default))!.Summary.FirstSeenAt);
        Assert.Empty(await RowKeysAsync(Table("TagIndex"), "seen-202501"));
        Assert.Equal([TableKeys.ForTag(tag)], await RowKeysAsync(Table("TagIndex"), "seen-202503"));
    }
}
