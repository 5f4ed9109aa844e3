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

/// <summary>
/// A big pass is counted, not held: its rows go to a scratch file and come back a range of numbers at a time. It must
/// prove, count and merge exactly what the same pass held in memory does.
/// </summary>
public sealed class SpilledPassTests : IDisposable
{
    private static readonly Tag MonTag = Tag.Parse("montag");
    private static readonly string[] Statuses = ["Delivered", "Not delivered", "Waiting", "Queued"];
    private readonly string _scratch = Directory.CreateTempSubdirectory("tagstatus-spill-tests").FullName;
    private readonly List<IPassSpill> _spills = [];
    private readonly FakeTimeProvider _time = new(T0.AddHours(1));

    public void Dispose()
    {
        _spills.ForEach(spill => spill.Dispose());
        Directory.Delete(_scratch, recursive: true);
    }

    private IPassSpill NewSpill()
    {
        var spill = new TempFilePassSpill(_scratch);
        _spills.Add(spill);
        return spill;
    }

    /// <summary>
    /// Pages as SMS Partner's may come: numbers from a small pool (several rows a number), rows moved to a later page
    /// (read twice), equal rows on one page (two messages), statuses moving between pages.
    /// </summary>
    private static List<IReadOnlyList<UpstreamRecipient>> RandomPages(Random random, int pages, int rowsAPage)
    {
        var result = new List<IReadOnlyList<UpstreamRecipient>>();
        for (var p = 0; p < pages; p++)
        {
            var page = new List<UpstreamRecipient>();
            for (var i = 0; i < rowsAPage; i++)
            {
                var pick = random.Next(10);
                if (pick == 0 && result.Count > 0)
                {
                    page.Add(result[^1][random.Next(result[^1].Count)]); // moved: read again on this page
                }
                else if (pick == 1 && page.Count > 0)
                {
                    page.Add(page[random.Next(page.Count)]); // an equal row on the same page
                }
                else
                {
                    page.Add(Upstream($"+336{random.Next(0, pages * rowsAPage / 2):D8}", Statuses[random.Next(Statuses.Length)], random.Next(10) == 0, T0.AddMinutes(random.Next(3))));
                }
            }

            result.Add(page);
        }

        return result;
    }

    private static void Fill(UpstreamPass pass, IEnumerable<IReadOnlyList<UpstreamRecipient>> pages, int? total, PassEnd end)
    {
        foreach (var page in pages)
        {
            pass.Add(page, total);
        }

        pass.Finish(end);
    }

    private static void AssertSameRows(IReadOnlyDictionary<string, IReadOnlyList<UpstreamRecipient>> expected, IReadOnlyDictionary<string, IReadOnlyList<UpstreamRecipient>> actual)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        Assert.All(expected, pair => Assert.Equal(pair.Value, actual[pair.Key]));
    }

    [Theory]
    [InlineData(1, 20, 50, true)]
    [InlineData(2, 20, 50, false)]
    [InlineData(3, 7, 1000, true)] // past RowsHeldAtMost: the pass that may spill does
    [InlineData(4, 7, 1000, false)]
    public void A_pass_that_spills_counts_and_proves_range_by_range_what_the_pass_held_proves(int seed, int pages, int rowsAPage, bool full)
    {
        var random = new Random(seed);
        var read = RandomPages(random, pages, rowsAPage);
        var held = new UpstreamPass();
        Fill(held, read, null, PassEnd.Exhausted);
        // The announced total is the distinct count (a full pass) or one more (a partial one).
        var total = held.DistinctCount + (full ? 0 : 1);
        held = new UpstreamPass();
        Fill(held, read, total, PassEnd.Exhausted);
        var counting = UpstreamPass.Counting(NewSpill(), expectedRows: 0);
        Fill(counting, read, total, PassEnd.Exhausted);
        var spillingOver = UpstreamPass.After(0, 0, null, [], NewSpill);
        Fill(spillingOver, read, total, PassEnd.Exhausted);

        var witnessed = held.WitnessedByNumber();
        var numbers = witnessed.Keys.Select(n => (Number: n, Key: TableKeys.RecipientKeyPrefix(n))).OrderBy(n => n.Key, StringComparer.Ordinal).ToList();
        var bounds = Enumerable.Range(0, 3).Select(_ => numbers[random.Next(numbers.Count)].Number).Distinct()
            .OrderBy(TableKeys.RecipientKeyPrefix, StringComparer.Ordinal).ToList();
        var ranges = bounds.Prepend(null).Zip(bounds.Append(null), (from, to) => new RecipientRange(from, to)).ToList();
        Assert.Equal(full, held.IsFull);
        Assert.Equal(pages * rowsAPage > UpstreamPass.RowsHeldAtMost, !spillingOver.HoldsAllPages);
        foreach (var pass in new[] { counting, spillingOver })
        {
            Assert.Equal((held.DistinctCount, held.IsFull, held.PartialReason, held.RowsReadCount, held.PagesRead), (pass.DistinctCount, pass.IsFull, pass.PartialReason, pass.RowsReadCount, pass.PagesRead));
            Assert.Equal(read[^1], pass.LastPage);
            foreach (var range in ranges)
            {
                AssertSameRows(held.WitnessedIn(range.Contains), pass.WitnessedIn(range.Contains));
            }

            Assert.Equal(witnessed.Count, ranges.Sum(range => pass.WitnessedIn(range.Contains).Count));
        }

        Assert.InRange(counting.NumberSample.Count, 1, 1024);
        Assert.All(counting.NumberSample, number => Assert.True(witnessed.ContainsKey(number)));
    }

    [Fact]
    public void A_step_that_spilled_gives_back_its_own_pages_numbered_as_read()
    {
        var pages = Enumerable.Range(0, 6).Select(p => (IReadOnlyList<UpstreamRecipient>)[.. Enumerable.Range(0, 1000).Select(i => Upstream($"+336{(p * 1000) + i:D8}", "Waiting"))]).ToList();
        var step = UpstreamPass.After(pagesBefore: 3, rowsBefore: 3000, announcedTotal: 100_000, lastPage: [], spillOver: NewSpill);

        foreach (var page in pages)
        {
            step.Add(page, 100_000);
        }

        Assert.Empty(step.Pages); // 6,000 rows: past what a step holds
        Assert.Equal(9, step.PagesRead);
        Assert.Equal((9000, 9000), (step.RowsReadCount, step.DistinctAtMost)); // the 3,000 rows before count as distinct at most
        Assert.Equal(pages[^1], step.LastPage);
        Assert.Equal(pages.Select((rows, i) => (i + 4, rows)), step.PagesAfter(3).Select(page => (page.Number, page.Rows)));
        Assert.Equal([8, 9], step.PagesAfter(7).Select(page => page.Number));
    }

    [Fact]
    public void A_spill_gives_back_pages_as_written_and_its_file_is_gone_once_disposed()
    {
        var atParis = new DateTimeOffset(2026, 3, 1, 10, 30, 0, TimeSpan.FromHours(1));
        IReadOnlyList<UpstreamRecipient> first = [Upstream("+33600000001", "Delivered", stopSms: true, statusAt: atParis), Upstream("+33600000002", "Waiting")];
        IReadOnlyList<UpstreamRecipient> third = [Upstream("+33600000003", "Statut inconnu é", statusAt: atParis.ToUniversalTime())];
        var spill = new TempFilePassSpill(_scratch);

        spill.Append(1, first);
        spill.Append(2, []);
        spill.Append(3, third);
        var back = spill.ReadBack().ToList();
        var again = spill.ReadBack().ToList();

        Assert.Equal([1, 2, 3], back.Select(page => page.Page));
        Assert.Equal(first, back[0].Rows);
        Assert.Empty(back[1].Rows);
        Assert.Equal(third, back[2].Rows);
        Assert.Equal(TimeSpan.FromHours(1), back[0].Rows[0].StatusAt!.Value.Offset); // the offset SMS Partner gave, not only the instant
        Assert.Equal(back.SelectMany(page => page.Rows), again.SelectMany(page => page.Rows));
        Assert.Single(Directory.GetFiles(_scratch));
        spill.Dispose();
        Assert.Empty(Directory.GetFiles(_scratch));
    }

    private TagRefresher Refresher(ITagStore store, int rowsPerGroup) => new(
        new Mock<ISmsPartnerClient>().Object, store, new TagStateRules(Options.Create(new TrackingOptions())), new NoTagChangeObserver(), _time,
        NullLogger<TagRefresher>.Instance, rowsPerRange: 7, rowsPerGroup: rowsPerGroup);

    [Theory]
    [InlineData(5, 30)]
    [InlineData(6, 100)]
    [InlineData(7, 1000)] // one group
    public async Task A_pass_merged_from_its_spill_in_groups_stores_what_the_pass_held_stores(int seed, int rowsPerGroup)
    {
        var held = new InMemoryTagStore();
        var spilled = new InMemoryTagStore();
        for (var refresh = 0; refresh < 5; refresh++)
        {
            // Refreshes 2 and 4 repeat the one before (ranges left unchanged); 1 and 2 are partial.
            var read = RandomPages(new Random(refresh is 2 or 4 ? seed + refresh - 1 : seed + refresh), pages: 6, rowsAPage: 50);
            var probe = new UpstreamPass();
            Fill(probe, read, null, PassEnd.Exhausted);
            var total = probe.DistinctCount + (refresh is 1 or 2 ? 1 : 0);
            var whole = new UpstreamPass();
            Fill(whole, read, total, PassEnd.Exhausted);
            var counted = UpstreamPass.Counting(NewSpill(), 0);
            Fill(counted, read, total, PassEnd.Exhausted);
            var readsBefore = (held.RangeReads, spilled.RangeReads);

            var one = await Refresher(held, int.MaxValue).SaveAsync(MonTag, whole, RefreshReason.Scheduled, default);
            var many = await Refresher(spilled, rowsPerGroup).SaveAsync(MonTag, counted, RefreshReason.Scheduled, default);

            Assert.Equal(held.Recipients(MonTag), spilled.Recipients(MonTag));
            Assert.Equal(one.Snapshot.Summary.Counts, many.Snapshot.Summary.Counts);
            Assert.Equal(TagCounts.Of(spilled.Recipients(MonTag)), many.Snapshot.Summary.Counts);
            Assert.Equal(RecipientsVersions.Of(spilled.Recipients(MonTag)), many.Snapshot.Summary.RecipientsVersion);
            Assert.Equal(one.Snapshot.Summary.State, many.Snapshot.Summary.State);
            Assert.Equal(one.RecipientsChanged, many.RecipientsChanged);
            var layout = (await spilled.GetRangeLayoutAsync(MonTag, default))!.Layout!;
            Assert.Null(layout.Ranges[0].FromNumber);
            Assert.Equal(TagCounts.Of(spilled.Recipients(MonTag)).Total, layout.Ranges.Sum(range => range.Counts.Total));
            if (refresh is 2 or 4)
            {
                // The same pages again: every range's digest matches, so no range is read (nor written).
                Assert.Equal(0, many.RecipientsChanged);
                Assert.Equal(readsBefore.Item2, spilled.RangeReads);
            }
        }
    }
}
