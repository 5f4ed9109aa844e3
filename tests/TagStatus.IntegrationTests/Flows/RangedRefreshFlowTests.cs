using TagStatus.Core.Domain;
using TagStatus.Core.Refresh;
using TagStatus.Core.Storage;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.IntegrationTests.Flows;

/// <summary>
/// A big tag merged range by range against Azurite, its requests recorded on the storage clients: every recipient
/// query is one partition and a RowKey range, an unchanged pass reads and writes no recipient row, and a straggler
/// costs its own range.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RangedRefreshFlowTests(AzuriteFixture azurite)
{
    private const int Recipients = 5_000; // three ranges of TagRefresher.DefaultRowsPerRange
    private static readonly Tag BigTag = Tag.Parse("big-ranged");

    private static UpstreamPass Pass(Func<int, string> status) =>
        UpstreamPass.OnePage([.. Enumerable.Range(0, Recipients).Select(i => new UpstreamRecipient($"+336{i:D8}", status(i), false, null))], Recipients);

    private static List<(string Method, Uri Uri)> RecipientRequests(RecordingPolicy recorder, AppHarness app) =>
        [.. recorder.Requests.Where(r => Uri.UnescapeDataString(r.Uri.AbsolutePath).Contains(app.TablePrefix + RecipientMonths.TableStem, StringComparison.Ordinal))];

    private static int Transactions(RecordingPolicy recorder) => recorder.Requests.Count(r => r.Method == "POST" && r.Uri.AbsolutePath.EndsWith("$batch", StringComparison.Ordinal));

    [Fact]
    public async Task An_unchanged_big_tag_costs_its_summary_and_a_straggler_costs_its_own_range()
    {
        var recorder = new RecordingPolicy();
        await using var app = await AppHarness.StartAsync(azurite, storagePolicy: recorder);
        var refresher = app.Get<TagRefresher>();
        var store = app.Get<ITagStore>();

        recorder.Clear();
        var first = await refresher.SaveAsync(BigTag, Pass(i => i == 4_321 ? "Waiting" : "Delivered"), RefreshReason.Scheduled, default);
        Assert.Equal(Recipients / 100, Transactions(recorder) - 1); // every row in 100-row transactions, then the summary's
        Assert.All(recorder.TableQueries(), query => Assert.Matches(@"^PartitionKey eq '[^']*'( and RowKey (ge|lt) '[^']*')*$", query.Filter));
        Assert.Equal(Recipients, first.Snapshot.Summary.Counts.Total);

        recorder.Clear();
        var unchanged = await refresher.SaveAsync(BigTag, Pass(i => i == 4_321 ? "Waiting" : "Delivered"), RefreshReason.Scheduled, default);

        Assert.Empty(RecipientRequests(recorder, app)); // no recipient row read or written
        Assert.Equal(1, Transactions(recorder)); // the summary and its range layout, one transaction
        Assert.Equal(first.Snapshot.Summary.RecipientsVersion, unchanged.Snapshot.Summary.RecipientsVersion);
        Assert.Equal(first.Snapshot.Summary.Counts, unchanged.Snapshot.Summary.Counts);

        recorder.Clear();
        var settled = await refresher.SaveAsync(BigTag, Pass(_ => "Delivered"), RefreshReason.Scheduled, default);

        var reads = RecipientRequests(recorder, app).Where(r => r.Method == "GET").ToList();
        var rangeQuery = Assert.Single(recorder.TableQueries().Where(q => q.Table.StartsWith(app.TablePrefix + RecipientMonths.TableStem, StringComparison.Ordinal)).Select(q => q.Filter).Distinct());
        Assert.Matches(@"^PartitionKey eq '[^']*'( and RowKey (ge|lt) '[^']*'){1,2}$", rangeQuery); // one range, not the partition
        Assert.InRange(reads.Count, 1, 2); // its pages: at most 2,000 rows
        Assert.Equal(2, Transactions(recorder)); // the straggler's row, then the summary
        Assert.Equal(1, settled.RecipientsChanged);
        Assert.Equal(TagState.Complete, settled.Snapshot.Summary.State);
        var rows = await store.GetRecipientsAsync(BigTag, default);
        Assert.Equal(Recipients, rows.Count);
        Assert.Equal(TagCounts.Of(rows.Select(r => r.Recipient)), settled.Snapshot.Summary.Counts);
        Assert.Equal(RecipientsVersions.Of(rows.Select(r => r.Recipient)), settled.Snapshot.Summary.RecipientsVersion);
    }

    [Fact]
    public async Task Layout_rows_are_written_only_over_the_row_as_read_so_a_tombstone_fails_a_stale_summary_transaction()
    {
        await using var app = await AppHarness.StartAsync(azurite);
        var store = app.Get<ITagStore>();
        var tag = Tag.Parse("big-tombstone");
        await app.Get<TagRefresher>().SaveAsync(tag, Pass(_ => "Waiting"), RefreshReason.Scheduled, default);
        var stored = (await store.GetSummaryAsync(tag, default))!;
        var read = (await store.GetRangeLayoutAsync(tag, default))!;
        Assert.NotNull(read.Layout);

        // Another refresh's tombstone, over the row it read: its time and unsettled time come back to the millisecond.
        var at = DateTimeOffset.UtcNow;
        var tombstone = await store.ForgetRangeLayoutAsync(tag, at, at.AddMinutes(-3), read.ETag, null, default);
        var left = (await store.GetRangeLayoutAsync(tag, default))!;
        Assert.Null(left.Layout);
        Assert.Equal(tombstone, left.ETag);
        Assert.InRange((left.ForgottenAt!.Value - at).Duration(), TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
        Assert.InRange((left.UnsettledSince!.Value - at.AddMinutes(-3)).Duration(), TimeSpan.Zero, TimeSpan.FromMilliseconds(1));

        // A tombstone or a layout over the row as it was before is refused, and the summary with it.
        await Assert.ThrowsAsync<StoreConflictException>(() => store.ForgetRangeLayoutAsync(tag, at, null, read.ETag, null, default));
        await Assert.ThrowsAsync<StoreConflictException>(() => store.ForgetRangeLayoutAsync(tag, at, null, null, null, default));
        var next = stored.Summary with { RefreshedAt = at };
        await Assert.ThrowsAsync<StoreConflictException>(() => store.SaveRefreshAsync([], next, stored, [read.Layout with { Replacing = read.ETag }], default));
        await Assert.ThrowsAsync<StoreConflictException>(() => store.SaveRefreshAsync([], next, stored, [read.Layout with { Replacing = null }], default));
        Assert.Equal(stored.ETag, (await store.GetSummaryAsync(tag, default))!.ETag);

        // Over the tombstone as read, it goes, summary and layout together.
        await store.SaveRefreshAsync([], next, stored, [read.Layout with { Replacing = tombstone }], default);
        var written = (await store.GetRangeLayoutAsync(tag, default))!.Layout!;
        Assert.Equal(read.Layout.RecipientsVersion, written.RecipientsVersion);
        Assert.Equal(read.Layout.Ranges, written.Ranges);
        Assert.NotEqual(stored.ETag, (await store.GetSummaryAsync(tag, default))!.ETag);
    }

    [Fact]
    public async Task A_new_big_tags_first_refresh_that_dies_after_its_tombstone_leaves_the_seen_row_retention_finds_it_by()
    {
        var recorder = new RecordingPolicy();
        await using var app = await AppHarness.StartAsync(azurite, storagePolicy: recorder);
        var tag = Tag.Parse("big-died-first");
        // Its first recipient transaction fails: the tombstone is written, the summary never is.
        recorder.FailWhen = (method, uri) => method == "POST" && uri.AbsolutePath.EndsWith("/$batch", StringComparison.Ordinal);

        await Assert.ThrowsAnyAsync<Exception>(() => app.Get<TagRefresher>().SaveAsync(tag, Pass(_ => "Waiting"), RefreshReason.Scheduled, default));
        recorder.FailWhen = null;

        var store = app.Get<ITagStore>();
        Assert.Null(await store.GetSummaryAsync(tag, default));
        Assert.Null((await store.GetRangeLayoutAsync(tag, default))!.Layout); // the tombstone
        var month = app.Clock.GetUtcNow().ToString("yyyyMM", System.Globalization.CultureInfo.InvariantCulture);
        var seen = azurite.Service.GetTableClient(app.TablePrefix + "TagIndex").GetEntityIfExists<Azure.Data.Tables.TableEntity>("seen-" + month, TableKeys.ForTag(tag));
        Assert.True(seen.HasValue, "no seen row: summary retention would never find the tag's partition");
    }
}
