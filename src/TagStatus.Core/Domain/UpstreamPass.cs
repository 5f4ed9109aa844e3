using System.Runtime.InteropServices;

namespace TagStatus.Core.Domain;

/// <summary>A row as SMS Partner reported it, before it is matched to what is stored.</summary>
public sealed record UpstreamRecipient(string PhoneNumber, string RawStatus, bool StopSms, DateTimeOffset? StatusAt)
{
    /// <summary>As SMS Partner wrote it; its own wordings are held as one shared string each (a big pass holds 100,000 rows).</summary>
    public string RawStatus { get; init; } = DeliveryStatuses.Shared(RawStatus);

    public DeliveryStatus Status => DeliveryStatuses.FromUpstream(RawStatus);
}

/// <summary>How a pass over SMS Partner's pages ended.</summary>
public enum PassEnd
{
    /// <summary>Still reading (a pass spread over several invocations, say).</summary>
    Open,

    /// <summary>The distinct rows read reached the announced total.</summary>
    ReachedTotal,

    /// <summary>A page came back empty: there is nothing more to read.</summary>
    Exhausted,

    /// <summary>SMS Partner answered the same page whatever <c>page</c> said: the rest cannot be read.</summary>
    PagingIgnored,
}

/// <summary>
/// One pass over SMS Partner's pages for a tag: the pages as read, the <c>total</c> announced, and how the pass ended.
/// </summary>
/// <remarks>
/// SMS Partner documents neither its order nor its paging, so a row can move between pages while they are read: one
/// row read twice, another skipped. A row read twice is the same text on two pages, so rows are counted
/// <em>distinct</em>: each distinct row counts as often as it appears on any one page (a page is one snapshot, so two
/// equal rows on one page are two messages). A pass is <see cref="IsFull"/> only when it ended normally, announced a
/// total, and showed exactly that many distinct rows. Pages are added one at a time, so a pass can be carried across
/// invocations and judged only once it has ended.
/// </remarks>
public sealed class UpstreamPass
{
    private readonly List<IReadOnlyList<UpstreamRecipient>> _pages = [];
    private readonly Dictionary<UpstreamRecipient, PageCount> _distinct = [];
    private readonly List<UpstreamRecipient> _firstSeen = [];
    private readonly IReadOnlyList<UpstreamRecipient> _lastPageBefore = [];
    private int _rowsHeld;
    private int _distinctHeld;

    public UpstreamPass()
    {
    }

    private UpstreamPass(int pagesBefore, int rowsBefore, int? announcedTotal, IReadOnlyList<UpstreamRecipient> lastPageBefore)
    {
        PagesBefore = pagesBefore;
        RowsBefore = rowsBefore;
        AnnouncedTotal = announcedTotal;
        _lastPageBefore = lastPageBefore;
    }

    /// <summary>
    /// The rest of a pass whose first <paramref name="pagesBefore"/> pages are stored elsewhere: a step of a big tag goes on
    /// from the counters of its cursor and the last page, without holding (or reloading) the pages before.
    /// </summary>
    public static UpstreamPass After(int pagesBefore, int rowsBefore, int? announcedTotal, IReadOnlyList<UpstreamRecipient> lastPage) =>
        pagesBefore == 0 ? new UpstreamPass() : new UpstreamPass(pagesBefore, rowsBefore, announcedTotal, lastPage);

    /// <summary>Pages read before the first one this pass holds (0 for a pass that holds all its pages).</summary>
    public int PagesBefore { get; }

    /// <summary>Rows on the pages before the first one this pass holds.</summary>
    public int RowsBefore { get; }

    /// <summary>True when every page is held, so rows can be counted distinct and the pass judged and merged.</summary>
    public bool HoldsAllPages => PagesBefore == 0;

    /// <summary>The latest <c>total</c> SMS Partner announced, when it did.</summary>
    public int? AnnouncedTotal { get; private set; }

    public PassEnd End { get; private set; } = PassEnd.Open;

    public int PagesRead => PagesBefore + _pages.Count;

    /// <summary>The pages held, in order: pages <see cref="PagesBefore"/> + 1 onwards.</summary>
    public IReadOnlyList<IReadOnlyList<UpstreamRecipient>> Pages => _pages;

    /// <summary>The last page read (held or not): a page equal to it means SMS Partner ignored <c>page</c>.</summary>
    public IReadOnlyList<UpstreamRecipient> LastPage => _pages.Count > 0 ? _pages[^1] : _lastPageBefore;

    /// <summary>Rows as read on the pages held, page after page, repeats included.</summary>
    public IReadOnlyList<UpstreamRecipient> RowsRead => [.. _pages.SelectMany(page => page)];

    public int RowsReadCount => RowsBefore + _rowsHeld;

    /// <summary>Rows counted once however many pages repeated them (see the remarks).</summary>
    /// <exception cref="InvalidOperationException">The pass does not hold all its pages.</exception>
    public int DistinctCount => HoldsAllPages ? _distinctHeld : throw new InvalidOperationException("Distinct rows are counted only over a pass that holds all its pages.");

    /// <summary>Distinct rows are at most this many: exact when every page is held.</summary>
    public int DistinctAtMost => RowsBefore + _distinctHeld;

    /// <summary>The distinct rows reached the announced total (known only when every page is held).</summary>
    public bool HasReachedTotal => HoldsAllPages && AnnouncedTotal is { } total && _distinctHeld >= total;

    /// <summary>The pages not held may be needed now: with them the distinct rows could reach the announced total.</summary>
    public bool NeedsEarlierPages => !HoldsAllPages && AnnouncedTotal is { } total && DistinctAtMost >= total;

    /// <summary>The pass ended normally, announced a total, and showed exactly that many distinct rows.</summary>
    public bool IsFull => End is PassEnd.ReachedTotal or PassEnd.Exhausted && AnnouncedTotal is { } total && DistinctCount == total;

    /// <summary>A short reason why the pass is not full, or null when it is.</summary>
    public string? PartialReason => IsFull ? null : (End, AnnouncedTotal) switch
    {
        (PassEnd.Open, _) => "The read of SMS Partner's pages has not finished.",
        (PassEnd.PagingIgnored, { } total) => $"SMS Partner ignored the page parameter: {DistinctCount} distinct rows read of {total} announced.",
        (PassEnd.PagingIgnored, null) => $"SMS Partner ignored the page parameter and announced no total: {DistinctCount} distinct rows read.",
        (_, null) => $"SMS Partner announced no total, so the {DistinctCount} rows read cannot be known to be all of them.",
        (_, { } total) when DistinctCount < total => $"{DistinctCount} distinct rows read of {total} announced: rows moved between pages or are missing.",
        (_, { } total) => $"{DistinctCount} distinct rows read, more than the {total} announced: messages were added during the read.",
    };

    /// <summary>A pass made of these pages, ended as given.</summary>
    public static UpstreamPass Of(int? announcedTotal, PassEnd end, params IReadOnlyList<UpstreamRecipient>[] pages)
    {
        var pass = new UpstreamPass();
        foreach (var page in pages)
        {
            pass.Add(page, announcedTotal);
        }

        pass.Finish(end);
        return pass;
    }

    /// <summary>One page that is the whole answer, with the total it announced (or none).</summary>
    public static UpstreamPass OnePage(IReadOnlyList<UpstreamRecipient> rows, int? announcedTotal) =>
        Of(announcedTotal, announcedTotal is { } total && rows.Count >= total ? PassEnd.ReachedTotal : PassEnd.Exhausted, rows);

    public void Add(IReadOnlyList<UpstreamRecipient> page, int? announcedTotal)
    {
        if (End != PassEnd.Open)
        {
            throw new InvalidOperationException("A pass that has ended takes no more pages.");
        }

        _pages.Add(page);
        _rowsHeld += page.Count;
        AnnouncedTotal = announcedTotal ?? AnnouncedTotal;
        var pageIndex = _pages.Count;
        _distinct.EnsureCapacity(_distinct.Count + page.Count);
        _firstSeen.EnsureCapacity(_firstSeen.Count + page.Count);
        foreach (var row in page)
        {
            ref var distinct = ref CollectionsMarshal.GetValueRefOrAddDefault(_distinct, row, out var seenBefore);
            if (!seenBefore)
            {
                _firstSeen.Add(row);
            }

            if (distinct.CountOn(pageIndex))
            {
                _distinctHeld++;
            }
        }
    }

    public void Finish(PassEnd end)
    {
        if (end == PassEnd.Open)
        {
            throw new ArgumentOutOfRangeException(nameof(end), "A pass ends in a state other than Open.");
        }

        End = end;
    }

    /// <summary>
    /// Per number, the rows this pass proves exist. A full pass proves every distinct row. Otherwise rows of one number
    /// spread over several pages may be one message read twice with a status that moved in between, so only as many
    /// rows as one page showed for the number count, final ones first.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<UpstreamRecipient>> WitnessedByNumber()
    {
        if (!HoldsAllPages)
        {
            throw new InvalidOperationException("Only a pass that holds all its pages proves rows.");
        }

        var full = IsFull;
        var result = new Dictionary<string, IReadOnlyList<UpstreamRecipient>>(_firstSeen.Count, StringComparer.Ordinal);
        foreach (var row in _firstSeen)
        {
            var times = _distinct[row].Most;
            ref var rows = ref CollectionsMarshal.GetValueRefOrAddDefault(result, row.PhoneNumber, out var known);
            if (!known && times == 1)
            {
                rows = new[] { row };
                continue;
            }

            var list = rows as List<UpstreamRecipient> ?? [.. rows ?? []];
            list.AddRange(Enumerable.Repeat(row, times));
            rows = list;
        }

        if (!full)
        {
            foreach (var (phone, count) in MostOnOnePage())
            {
                var rows = result[phone];
                if (rows.Count > count.Most)
                {
                    result[phone] = rows.OrderBy(row => row.Status.IsFinal() ? 0 : 1).Take(count.Most).ToList();
                }
            }
        }

        return result;
    }

    /// <summary>Per number, the most rows any one page showed: needed only for a pass that is not full, so counted then.</summary>
    private Dictionary<string, PageCount> MostOnOnePage()
    {
        var most = new Dictionary<string, PageCount>(_firstSeen.Count, StringComparer.Ordinal);
        for (var index = 0; index < _pages.Count; index++)
        {
            foreach (var row in _pages[index])
            {
                CollectionsMarshal.GetValueRefOrAddDefault(most, row.PhoneNumber, out _).CountOn(index + 1);
            }
        }

        return most;
    }

    /// <summary>How often something appeared on the page it was last seen on, and the most on any one page.</summary>
    private struct PageCount
    {
        private int _page;
        private int _onPage;

        public int Most { get; private set; }

        /// <summary>Counts one more on page <paramref name="page"/>; true when that raised <see cref="Most"/>.</summary>
        public bool CountOn(int page)
        {
            if (_page != page)
            {
                _page = page;
                _onPage = 0;
            }

            if (++_onPage <= Most)
            {
                return false;
            }

            Most = _onPage;
            return true;
        }
    }
}
