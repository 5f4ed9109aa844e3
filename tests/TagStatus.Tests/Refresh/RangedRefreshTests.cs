using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;
using TagStatus.Core.Domain;
using TagStatus.Core.Refresh;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.Tests.Support;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Refresh;

/// <summary>A refresh merged and stored range by range ends exactly as one merged whole, and a failure halfway loses nothing.</summary>
public sealed class RangedRefreshTests
{
    private static readonly Tag MonTag = Tag.Parse("montag");
    private static readonly string[] Statuses = ["Delivered", "Not delivered", "Waiting", "Queued"];
    private readonly FakeTimeProvider _time = new(T0.AddHours(1));

    private TagRefresher Refresher(ITagStore store, int rowsPerRange) => new(
        new Mock<ISmsPartnerClient>().Object, store, new TagStateRules(Options.Create(new TrackingOptions())), new NoTagChangeObserver(), _time,
        NullLogger<TagRefresher>.Instance, rowsPerRange: rowsPerRange);

    /// <summary>Rows of numbers drawn from a small pool (so numbers repeat), random statuses; sometimes a partial pass.</summary>
    private static UpstreamPass RandomPass(Random random, int rows, bool full)
    {
        var page = Enumerable.Range(0, rows)
            .Select(_ => Upstream($"+336{random.Next(0, rows):D8}", Statuses[random.Next(Statuses.Length)], stopSms: random.Next(10) == 0))
            .ToList();
        return UpstreamPass.OnePage(page, full ? page.Count : page.Count + 1);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 25)]
    [InlineData(4, 200)]
    public async Task A_tag_merged_in_many_ranges_stores_the_rows_counts_and_version_of_one_merge(int seed, int rowsPerRange)
    {
        var random = new Random(seed);
        var whole = new InMemoryTagStore();
        var ranged = new InMemoryTagStore();
        for (var pass = 0; pass < 4; pass++)
        {
            var upstream = RandomPass(random, rows: 300, full: pass % 2 == 0);
            var one = await Refresher(whole, int.MaxValue).SaveAsync(MonTag, upstream, RefreshReason.Scheduled, default);
            var many = await Refresher(ranged, rowsPerRange).SaveAsync(MonTag, upstream, RefreshReason.Scheduled, default);

            Assert.Equal(whole.Recipients(MonTag), ranged.Recipients(MonTag));
            Assert.Equal(one.Snapshot.Summary.Counts, many.Snapshot.Summary.Counts);
            Assert.Equal(TagCounts.Of(ranged.Recipients(MonTag)), many.Snapshot.Summary.Counts);
            Assert.Equal(one.Snapshot.Summary.RecipientsVersion, many.Snapshot.Summary.RecipientsVersion);
            Assert.Equal(RecipientsVersions.Of(ranged.Recipients(MonTag)), many.Snapshot.Summary.RecipientsVersion);
            Assert.Equal(one.RecipientsChanged, many.RecipientsChanged);
            Assert.Equal(one.Snapshot.Summary.State, many.Snapshot.Summary.State);
        }
    }

    [Fact]
    public async Task A_tag_of_one_range_returns_its_rows_inline_and_a_bigger_one_none()
    {
        var upstream = UpstreamPass.OnePage([Upstream("+33600000002", "Waiting"), Upstream("+33600000001", "Delivered"), Upstream("+33600000003", "Delivered")], 3);

        var small = await Refresher(new InMemoryTagStore(), rowsPerRange: 3).SaveAsync(MonTag, upstream, RefreshReason.Scheduled, default);
        var big = await Refresher(new InMemoryTagStore(), rowsPerRange: 2).SaveAsync(MonTag, upstream, RefreshReason.Scheduled, default);

        Assert.Equal(["+33600000001", "+33600000002", "+33600000003"], small.Snapshot.Recipients!.Select(r => r.PhoneNumber));
        Assert.Null(big.Snapshot.Recipients);
        Assert.Equal(small.Snapshot.Summary.Counts, big.Snapshot.Summary.Counts);
    }

    [Fact]
    public async Task A_write_failing_in_a_later_range_writes_no_summary_and_a_retry_completes_the_tag_without_duplicates()
    {
        var memory = new InMemoryTagStore();
        var failOnRangeWrite = 3;
        var rangeWrites = 0;
        var store = new Mock<ITagStore>();
        store.Setup(s => s.GetSummaryAsync(MonTag, It.IsAny<CancellationToken>())).Returns((Tag t, CancellationToken c) => memory.GetSummaryAsync(t, c));
        store.Setup(s => s.ReadRecipientsAsync(MonTag, It.IsAny<RecipientRange>(), It.IsAny<CancellationToken>()))
            .Returns((Tag t, RecipientRange r, CancellationToken c) => memory.ReadRecipientsAsync(t, r, c));
        store.Setup(s => s.SaveRecipientsAsync(MonTag, It.IsAny<StoredSummary?>(), It.IsAny<DateTimeOffset>(), It.IsAny<IReadOnlyList<RecipientWrite>>(), It.IsAny<CancellationToken>()))
            .Returns((Tag t, StoredSummary? s, DateTimeOffset at, IReadOnlyList<RecipientWrite> w, CancellationToken c) =>
                ++rangeWrites == failOnRangeWrite ? throw new StoreUnavailableException("down") : memory.SaveRecipientsAsync(t, s, at, w, c));
        store.Setup(s => s.SaveRefreshAsync(It.IsAny<IReadOnlyList<RecipientWrite>>(), It.IsAny<TagSummary>(), It.IsAny<StoredSummary?>(), It.IsAny<IReadOnlyList<TagCompanionRow>>(), It.IsAny<CancellationToken>()))
            .Returns((IReadOnlyList<RecipientWrite> w, TagSummary s, StoredSummary? r, IReadOnlyList<TagCompanionRow> c, CancellationToken ct) => memory.SaveRefreshAsync(w, s, r, c, ct));
        var rows = Enumerable.Range(0, 10).Select(i => Upstream($"+3360000000{i}", "Delivered")).ToList();
        var pass = UpstreamPass.OnePage(rows, rows.Count);

        await Assert.ThrowsAsync<StoreUnavailableException>(() => Refresher(store.Object, rowsPerRange: 2).SaveAsync(MonTag, pass, RefreshReason.Scheduled, default));

        Assert.Null(memory.Summary(MonTag));
        Assert.InRange(memory.Recipients(MonTag).Count, 4, 9); // the ranges before the failure, and maybe the one read meanwhile: never all

        var retried = await Refresher(store.Object, rowsPerRange: 2).SaveAsync(MonTag, pass, RefreshReason.Scheduled, default);

        Assert.Equal(TagState.Complete, retried.Snapshot.Summary.State);
        Assert.Equal(10, memory.Recipients(MonTag).Count);
        Assert.Equal(10, memory.Recipients(MonTag).Select(r => (r.PhoneNumber, r.Occurrence)).Distinct().Count());
        Assert.Equal(TagCounts.Of(memory.Recipients(MonTag)), memory.Summary(MonTag)!.Counts);
    }

    [Fact]
    public void Ranges_cover_every_number_once_whether_or_not_the_pass_shows_it()
    {
        var random = new Random(11);
        var seen = Enumerable.Range(0, 500).Select(_ => $"+{random.Next(1, 999_999_999)}").Distinct()
            .ToDictionary(n => n, n => (IReadOnlyList<UpstreamRecipient>)[Upstream(n, "Waiting")], StringComparer.Ordinal);
        var others = Enumerable.Range(0, 500).Select(_ => $"+{random.Next(1, 999_999_999)}x").ToList(); // stored, not in the pass

        var ranges = RecipientRanges.Split(seen, rowsPerRange: 40);

        Assert.InRange(ranges.Count, seen.Count / 40, (seen.Count / 40) + 1);
        Assert.All(seen.Keys.Concat(others), number => Assert.Single(ranges, range => range.Range.Contains(number)));
        Assert.All(ranges, range => Assert.All(range.Numbers, number => Assert.True(range.Range.Contains(number))));
        Assert.Equal(RecipientRange.All, Assert.Single(RecipientRanges.Split(seen, rowsPerRange: seen.Count)).Range);
    }

    [Fact]
    public void The_recipients_version_is_the_same_in_any_order_or_split_and_moves_with_any_shown_field()
    {
        var rows = Enumerable.Range(0, 50).Select(i => Recipient($"+336000000{i:D2}", i % 3 == 0 ? DeliveryStatus.Waiting : DeliveryStatus.Delivered, statusAt: T0.AddMinutes(i))).ToList();
        var whole = RecipientsVersions.Of(rows);

        Assert.Equal(whole, RecipientsVersions.Of(Enumerable.Reverse(rows)));
        Assert.Equal(whole, default(RecipientsVersion).With(rows.Take(20)).Plus(default(RecipientsVersion).With(rows.Skip(20))).ToString());
        Assert.NotEqual(whole, RecipientsVersions.Of(rows.Select((r, i) => i == 7 ? r with { StopSms = true } : r)));
        Assert.NotEqual(whole, RecipientsVersions.Of(rows.Select((r, i) => i == 7 ? r with { Occurrence = 1 } : r)));
        Assert.NotEqual(whole, RecipientsVersions.Of(rows.Skip(1)));
    }
}

/// <summary>A big tag waiting for a few stragglers: ranges whose upstream rows did not move are neither read nor written.</summary>
public sealed class UnchangedRangeTests
{
    private static readonly Tag MonTag = Tag.Parse("montag");
    private readonly InMemoryTagStore _store = new();
    private readonly FakeTimeProvider _time = new(T0.AddHours(1));

    private TagRefresher Refresher() => new(
        new Mock<ISmsPartnerClient>().Object, _store, new TagStateRules(Options.Create(new TrackingOptions())), new NoTagChangeObserver(),
        _time, NullLogger<TagRefresher>.Instance, rowsPerRange: 10);

    private static UpstreamPass Pass(Func<int, string> status) =>
        UpstreamPass.OnePage([.. Enumerable.Range(0, 100).Select(i => Upstream($"+336{i:D8}", status(i)))], 100);

    [Fact]
    public async Task An_unchanged_pass_reads_and_writes_no_row_and_a_straggler_costs_its_own_range()
    {
        await Refresher().SaveAsync(MonTag, Pass(i => i == 42 ? "Waiting" : "Delivered"), RefreshReason.Scheduled, default);
        var stored = _store.Recipients(MonTag);
        var readsBefore = _store.RangeReads;

        var unchanged = await Refresher().SaveAsync(MonTag, Pass(i => i == 42 ? "Waiting" : "Delivered"), RefreshReason.Scheduled, default);

        Assert.Equal(readsBefore, _store.RangeReads);
        Assert.Equal(0, unchanged.RecipientsChanged);
        Assert.Equal(2, unchanged.RowsWritten); // the summary and its layout, one transaction; no recipient row
        Assert.Equal(new TagCounts(100, 99, 0, 1, 0, OptedOut: 0), unchanged.Snapshot.Summary.Counts);
        Assert.Equal(RecipientsVersions.Of(stored), unchanged.Snapshot.Summary.RecipientsVersion);

        var settled = await Refresher().SaveAsync(MonTag, Pass(_ => "Delivered"), RefreshReason.Scheduled, default);

        Assert.Equal(readsBefore + 1, _store.RangeReads); // one query: the straggler's range only
        Assert.Equal(1, settled.RecipientsChanged);
        Assert.Equal(TagState.Complete, settled.Snapshot.Summary.State);
        Assert.Equal(TagCounts.Of(_store.Recipients(MonTag)), settled.Snapshot.Summary.Counts);
        Assert.Equal(RecipientsVersions.Of(_store.Recipients(MonTag)), settled.Snapshot.Summary.RecipientsVersion);
    }

    [Fact]
    public async Task A_refresh_that_died_after_its_rows_leaves_no_layout_until_it_must_have_ended()
    {
        await Refresher().SaveAsync(MonTag, Pass(i => i % 10 == 0 ? "Waiting" : "Delivered"), RefreshReason.Scheduled, default);
        await DieAfterRowsAsync("+33600000010");
        var readsBefore = _store.RangeReads;

        var result = await Refresher().SaveAsync(MonTag, Pass(i => i % 10 == 0 ? "Waiting" : "Delivered"), RefreshReason.Scheduled, default);

        Assert.Equal(readsBefore + 1, _store.RangeReads); // one query for the run of every range: nothing skipped
        Assert.Equal(TagCounts.Of(_store.Recipients(MonTag)), result.Snapshot.Summary.Counts);
        Assert.Null((await _store.GetRangeLayoutAsync(MonTag, default))!.Layout); // the dead writer might still be writing

        _time.Advance(TimeSpan.FromMinutes(5));
        await Refresher().SaveAsync(MonTag, Pass(i => i % 10 == 0 ? "Waiting" : "Delivered"), RefreshReason.Scheduled, default);
        Assert.Null((await _store.GetRangeLayoutAsync(MonTag, default))!.Layout);

        _time.Advance(TagRefresher.ForeignWriteWindow);
        var later = await Refresher().SaveAsync(MonTag, Pass(i => i % 10 == 0 ? "Waiting" : "Delivered"), RefreshReason.Scheduled, default);

        Assert.NotNull((await _store.GetRangeLayoutAsync(MonTag, default))!.Layout);
        Assert.Equal(TagCounts.Of(_store.Recipients(MonTag)), later.Snapshot.Summary.Counts);
    }

    [Fact]
    public async Task A_refresh_whose_rows_were_read_before_another_ones_tombstone_merges_again_instead_of_restoring_the_layout()
    {
        await Refresher().SaveAsync(MonTag, Pass(i => i % 10 == 0 ? "Waiting" : "Delivered"), RefreshReason.Scheduled, default);
        // This refresh finds every range unchanged and skips them all; just before its summary, another refresh forgets the
        // layout, writes a row and dies. Restoring the layout would announce counts the rows no longer have, for good.
        _store.BeforeSaveRefresh = () => DieAfterRowsAsync("+33600000010");

        var result = await Refresher().SaveAsync(MonTag, Pass(i => i % 10 == 0 ? "Waiting" : "Delivered"), RefreshReason.Scheduled, default);

        Assert.Null(_store.BeforeSaveRefresh); // the other writer did act
        Assert.Equal(TagCounts.Of(_store.Recipients(MonTag)), result.Snapshot.Summary.Counts);
        Assert.Equal(RecipientsVersions.Of(_store.Recipients(MonTag)), result.Snapshot.Summary.RecipientsVersion);
        Assert.Null((await _store.GetRangeLayoutAsync(MonTag, default))!.Layout);
    }

    /// <summary>Another refresh, as the store sees it: tombstone, one row now Delivered, and no summary (it died).</summary>
    private async Task DieAfterRowsAsync(string phoneNumber)
    {
        var layout = await _store.GetRangeLayoutAsync(MonTag, default);
        await _store.ForgetRangeLayoutAsync(MonTag, _time.GetUtcNow().AddSeconds(-1), null, layout?.ETag, null, default);
        var row = (await _store.GetRecipientsAsync(MonTag, default)).Single(r => r.Recipient.PhoneNumber == phoneNumber);
        var delivered = row.Recipient with { Status = DeliveryStatus.Delivered, RawStatus = "Delivered" };
        await _store.SaveRecipientsAsync(MonTag, null, T0, [new RecipientWrite(delivered, row.ETag)], default);
    }
}
