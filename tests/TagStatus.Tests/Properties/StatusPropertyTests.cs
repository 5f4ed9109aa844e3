using CsCheck;
using TagStatus.Core.Domain;
using TagStatus.Core.Refresh;
using TagStatus.Tests.Sequences;

namespace TagStatus.Tests.Properties;

/// <summary>
/// Issue 12's invariants over generated upstream histories, through the real client, merge, state rules and refresher:
/// numbers sent several times, campaigns added under a settled tag, random orders per refresh, rows moving between
/// pages, pages ignored, totals present and absent, statuses going final (or unknown) at random times. Every invariant
/// is checked after every refresh, on 1,000 histories per property.
/// </summary>
public sealed class StatusPropertyTests
{
    private const long Histories = 1000;

    [Fact]
    public async Task Invariants_hold_when_statuses_move_between_refreshes()
    {
        var coverage = new Coverage();

        await UpstreamHistory.Generator(changesMidPass: false).SampleAsync(h => ReplayAsync(h, coverage, groundTruth: true), iter: Histories, print: Describe);

        coverage.AssertEveryCaseWasSeen();
    }

    [Fact]
    public async Task Invariants_hold_when_statuses_move_while_the_pages_are_read()
    {
        var coverage = new Coverage();

        await UpstreamHistory.Generator(changesMidPass: true).SampleAsync(h => ReplayAsync(h, coverage, groundTruth: false), iter: Histories, print: Describe);

        coverage.AssertEveryCaseWasSeen();
    }

    private static async Task ReplayAsync(UpstreamHistory history, Coverage coverage, bool groundTruth)
    {
        var h = new UpstreamHarness();
        var before = new Snapshot([], null);
        var mostRowsOneFullPassShowed = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var refresh = 0; refresh < history.Refreshes.Count; refresh++)
        {
            var shape = history.Refreshes[refresh];
            var pagesServed = new List<int>();
            var current = refresh;
            h.PageBody = page =>
            {
                pagesServed.Add(page);
                return history.PageBody(current, page);
            };
            if (refresh > 0)
            {
                h.Time.Advance(shape.Advance);
            }

            await h.Refresher.RefreshAsync(UpstreamHarness.MonTag, refresh == 0 ? RefreshReason.Register : RefreshReason.Scheduled, default);

            var after = new Snapshot(h.Store.Recipients(UpstreamHarness.MonTag), h.Store.Summary(UpstreamHarness.MonTag)!);
            if (!after.Summary!.Partial)
            {
                foreach (var number in pagesServed.SelectMany(page => history.MessagesOnPage(current, page)).GroupBy(m => m.Phone))
                {
                    mostRowsOneFullPassShowed[number.Key] = Math.Max(mostRowsOneFullPassShowed.GetValueOrDefault(number.Key), number.Count());
                }
            }

            var lastTick = history.TickOf(refresh, pagesServed.Count == 0 ? 1 : pagesServed.Max());
            Invariants.Check(before, after, history, refresh, lastTick, groundTruth ? null : mostRowsOneFullPassShowed, h);
            coverage.Saw(before, after);
            before = after;
        }
    }

    private static string Describe(UpstreamHistory history) =>
        $"midPass={history.ChangesMidPass}; messages: {string.Join(", ", history.Messages)}; refreshes: {string.Join(", ", history.Refreshes)}";

    /// <summary>Counts the cases the histories reached, so a generator that stopped reaching one fails the test.</summary>
    private sealed class Coverage
    {
        private int _completed;
        private int _partial;
        private int _reopened;
        private int _expired;
        private int _completedWithRepeats;

        public void Saw(Snapshot before, Snapshot after)
        {
            var summary = after.Summary!;
            Count(ref _completed, summary.State == TagState.Complete && before.Summary?.State != TagState.Complete);
            Count(ref _partial, summary.Partial);
            Count(ref _reopened, before.Summary?.State.IsSettled() == true && summary.State == TagState.Pending);
            Count(ref _expired, summary.State == TagState.Expired);
            Count(ref _completedWithRepeats, summary.State == TagState.Complete && after.Rows.GroupBy(r => r.PhoneNumber).Any(g => g.Count() > 1));
        }

        public void AssertEveryCaseWasSeen()
        {
            Assert.True(_completed > 0, "No history completed a tag.");
            Assert.True(_partial > 0, "No history read partially.");
            Assert.True(_reopened > 0, "No history reopened a settled tag.");
            Assert.True(_expired > 0, "No history expired a tag.");
            Assert.True(_completedWithRepeats > 0, "No history completed a tag with a number sent several times.");
        }

        private static void Count(ref int counter, bool seen)
        {
            if (seen)
            {
                Interlocked.Increment(ref counter);
            }
        }
    }
}

/// <summary>What the store held after one refresh.</summary>
internal sealed record Snapshot(IReadOnlyList<Recipient> Rows, TagSummary? Summary)
{
    public int FinalsOf(string phone) => Rows.Count(r => r.PhoneNumber == phone && r.Status.IsFinal());

    public int RowsOf(string phone) => Rows.Count(r => r.PhoneNumber == phone);
}

/// <summary>Issue 12's invariants between two consecutive refreshes.</summary>
internal static class Invariants
{
    /// <param name="passBound">
    /// Per number, the most rows one full pass has shown, when statuses move mid-pass (a message read on two pages with
    /// two statuses is then indistinguishable from two messages, on a pass that looks full); null when statuses only
    /// move between refreshes, where the truth itself bounds the rows.
    /// </param>
    public static void Check(Snapshot before, Snapshot after, UpstreamHistory history, int refresh, int lastTick, IReadOnlyDictionary<string, int>? passBound, UpstreamHarness h)
    {
        var summary = after.Summary!;
        var sent = history.SentBy(refresh).ToList();
        var phones = sent.Select(m => m.Phone).Union(after.Rows.Select(r => r.PhoneNumber)).Distinct().ToList();

        // Counts are the rows', and waiting (with unknown) is rows minus finals.
        Assert.Equal(TagCounts.Of(after.Rows), summary.Counts);
        Assert.Equal(summary.Counts.Total - summary.Counts.Delivered - summary.Counts.NotDelivered, summary.Counts.Waiting + summary.Counts.Unknown);

        foreach (var phone in phones)
        {
            // Per number, the count of final rows never decreases.
            Assert.True(after.FinalsOf(phone) >= before.FinalsOf(phone), $"{phone}: finals went from {before.FinalsOf(phone)} to {after.FinalsOf(phone)} at refresh {refresh}.");

            // Rows kept never exceed what upstream holds, nor (statuses moving mid-pass) what one full pass showed.
            var truth = sent.Count(m => m.Phone == phone);
            var bound = passBound is null ? truth : Math.Max(truth, passBound.GetValueOrDefault(phone));
            Assert.True(after.RowsOf(phone) <= bound, $"{phone}: {after.RowsOf(phone)} rows kept, more than {bound} at refresh {refresh}.");
        }

        // A final status is never undone: every row that was final is still there, still final.
        foreach (var final in before.Rows.Where(r => r.Status.IsFinal()))
        {
            var now = after.Rows.SingleOrDefault(r => r.PhoneNumber == final.PhoneNumber && r.Occurrence == final.Occurrence);
            Assert.True(now?.Status.IsFinal() == true, $"{final.PhoneNumber}#{final.Occurrence} was {final.Status} and is now {now?.Status.ToString() ?? "gone"}.");
        }

        if (summary.State == TagState.Complete && before.Summary?.State != TagState.Complete)
        {
            // Completed only on a full pass: a total announced, every message read, every one final.
            Assert.True(history.Refreshes[refresh].AnnouncesTotal, $"Completed at refresh {refresh} on a pass without a total.");
            Assert.False(summary.Partial);
            Assert.All(sent, m => Assert.True(m.IsFinalAt(lastTick), $"Completed at refresh {refresh} while {m} is not final."));
            foreach (var phone in phones)
            {
                Assert.Equal(sent.Count(m => m.Phone == phone), after.RowsOf(phone));
            }
        }

        if (summary.State == TagState.Expired)
        {
            Assert.True(h.Time.GetUtcNow() >= h.Rules.ExpiresAt(summary.WindowStart));
        }

        if (before.Summary?.State.IsSettled() == true && summary.State == TagState.Pending)
        {
            // Reopened: tracked, a new window from now, and subscribers told.
            Assert.True(summary.Tracked);
            Assert.Equal(h.Time.GetUtcNow(), summary.WindowStart);
            Assert.NotNull(summary.NextRefreshAt);
            Assert.Equal("tag.reopened", h.Events[^1]);
        }
    }
}
