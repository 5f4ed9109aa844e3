using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
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
/// <para>
/// Rows are counted by a 128-bit fingerprint, not held for it, so a pass can count pages it does not keep:
/// <see cref="Counting"/> keeps a big pass's rows in a spill and hands them back a range of numbers at a time.
/// </para>
/// </remarks>
public sealed class UpstreamPass
{
    /// <summary>Rows a pass that may spill holds before it does (~1 MB): a small tag's pass never touches the disk.</summary>
    public const int RowsHeldAtMost = 5_000;

    private const int SampleSize = 1024;

    private readonly List<IReadOnlyList<UpstreamRecipient>> _pages = [];
    private readonly Dictionary<RowFingerprint, PageCount> _distinct = [];
    private readonly Func<IPassSpill>? _spillOver;
    private readonly List<string>? _sample;
    private readonly Random? _sampling;
    private readonly HashSet<string> _unknownStatuses = new(StringComparer.Ordinal);
    private List<(UpstreamRecipient Row, RowFingerprint Key)>? _firstSeen = [];
    private IPassSpill? _spill;
    private IReadOnlyList<UpstreamRecipient> _lastPageBefore = [];
    private int _pagesCounted;
    private int _rowsCounted;
    private int _rowsHeld;
    private int _distinctCounted;
    private int _sampled;

    public UpstreamPass()
    {
    }

    private UpstreamPass(int pagesBefore, int rowsBefore, int? announcedTotal, IReadOnlyList<UpstreamRecipient> lastPageBefore, Func<IPassSpill>? spillOver)
    {
        PagesBefore = pagesBefore;
        RowsBefore = rowsBefore;
        AnnouncedTotal = announcedTotal;
        _lastPageBefore = lastPageBefore;
        _spillOver = spillOver;
        if (spillOver is not null)
        {
            _sample = new List<string>(SampleSize);
            _sampling = new Random(SampleSize); // fixed seed: the same pages give the same sample
        }
    }

    private UpstreamPass(IPassSpill spill, int expectedRows)
        : this(0, 0, null, [], () => spill)
    {
        _distinct.EnsureCapacity(expectedRows);
        SpillHeldPages();
    }

    /// <summary>
    /// The rest of a pass whose first <paramref name="pagesBefore"/> pages are stored elsewhere: a step of a big tag goes on
    /// from the counters of its cursor and the last page, without holding (or reloading) the pages before.
    /// </summary>
    /// <param name="spillOver">
    /// Where the pass's pages go once they hold more than <see cref="RowsHeldAtMost"/> rows (a scratch file, say); null:
    /// they are held, however many.
    /// </param>
    public static UpstreamPass After(int pagesBefore, int rowsBefore, int? announcedTotal, IReadOnlyList<UpstreamRecipient> lastPage, Func<IPassSpill>? spillOver = null) =>
        pagesBefore == 0 && spillOver is null ? new UpstreamPass() : new UpstreamPass(pagesBefore, rowsBefore, announcedTotal, lastPage, spillOver);

    /// <summary>
    /// A pass that counts every page and holds none: its rows go to <paramref name="spill"/> and come back a range of
    /// numbers at a time (<see cref="WitnessedIn"/>) or as pages (<see cref="PagesAfter"/>). It holds ~40 bytes a row
    /// instead of the rows (a big tag's last step: its stored pages, then its own).
    /// </summary>
    /// <param name="expectedRows">Rows the pass will likely count (sizes its counter once).</param>
    public static UpstreamPass Counting(IPassSpill spill, int expectedRows) => new(spill, expectedRows);

    /// <summary>Pages read before the first one this pass counts (0 for a pass that counts all its pages).</summary>
    public int PagesBefore { get; }

    /// <summary>Rows on the pages before the first one this pass counts.</summary>
    public int RowsBefore { get; }

    /// <summary>True when every page is counted, so rows are counted distinct exactly and the pass can be judged and merged.</summary>
    public bool CountsAllPages => PagesBefore == 0;

    /// <summary>True when every page is held in memory (none stored elsewhere, none spilled).</summary>
    public bool HoldsAllPages => PagesBefore == 0 && _spill is null;

    /// <summary>The latest <c>total</c> SMS Partner announced, when it did.</summary>
    public int? AnnouncedTotal { get; private set; }

    public PassEnd End { get; private set; } = PassEnd.Open;

    public int PagesRead => PagesBefore + _pagesCounted + _pages.Count;

    /// <summary>SMS Partner's wordings on the pages counted that Tag Status does not know (each once).</summary>
    public IReadOnlyCollection<string> UnknownStatuses => _unknownStatuses;

    /// <summary>The pages held, in order: pages <see cref="PagesBefore"/> + 1 onwards (none once the pass has spilled).</summary>
    public IReadOnlyList<IReadOnlyList<UpstreamRecipient>> Pages => _pages;

    /// <summary>The last page read (held or not): a page equal to it means SMS Partner ignored <c>page</c>.</summary>
    public IReadOnlyList<UpstreamRecipient> LastPage => _pages.Count > 0 ? _pages[^1] : _lastPageBefore;

    /// <summary>Rows as read on the pages held, page after page, repeats included.</summary>
    public IReadOnlyList<UpstreamRecipient> RowsRead => [.. _pages.SelectMany(page => page)];

    public int RowsReadCount => RowsBefore + _rowsCounted + _rowsHeld;

    /// <summary>Rows counted once however many pages repeated them (see the remarks).</summary>
    /// <exception cref="InvalidOperationException">The pass does not count all its pages.</exception>
    public int DistinctCount => CountsAllPages ? _distinctCounted : throw new InvalidOperationException("Distinct rows are counted only over a pass that counts all its pages.");

    /// <summary>Distinct rows are at most this many: exact when every page is counted.</summary>
    public int DistinctAtMost => RowsBefore + _distinctCounted;

    /// <summary>The distinct rows reached the announced total (known only when every page is counted).</summary>
    public bool HasReachedTotal => CountsAllPages && AnnouncedTotal is { } total && _distinctCounted >= total;

    /// <summary>The pages not counted may be needed now: with them the distinct rows could reach the announced total.</summary>
    public bool NeedsEarlierPages => !CountsAllPages && AnnouncedTotal is { } total && DistinctAtMost >= total;

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

    /// <summary>
    /// Numbers drawn evenly from the rows a pass that may spill counted (at most 1,024; empty for other passes): enough to
    /// cut a big pass into ranges of about equal rows without holding its numbers.
    /// </summary>
    public IReadOnlyList<string> NumberSample => _sample ?? [];

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

    /// <summary>Adds the next page: held, or, once the pass has spilled, counted and spilled only.</summary>
    public void Add(IReadOnlyList<UpstreamRecipient> page, int? announcedTotal)
    {
        if (End != PassEnd.Open)
        {
            throw new InvalidOperationException("A pass that has ended takes no more pages.");
        }

        if (_spill is null && _spillOver is not null && _rowsHeld + page.Count > RowsHeldAtMost)
        {
            SpillHeldPages();
        }

        if (_spill is null)
        {
            _pages.Add(page);
            _rowsHeld += page.Count;
        }
        else
        {
            _pagesCounted++;
            _rowsCounted += page.Count;
            _lastPageBefore = page;
        }

        Count(page, announcedTotal);
    }

    /// <summary>The pages after page <paramref name="pagesStored"/>, numbered, from memory or (a counting pass) the spill.</summary>
    public IEnumerable<(int Number, IReadOnlyList<UpstreamRecipient> Rows)> PagesAfter(int pagesStored)
    {
        if (_spill is null)
        {
            var firstHeld = PagesBefore + _pagesCounted + 1;
            return _pages.Select((rows, index) => (Number: firstHeld + index, Rows: rows)).Where(page => page.Number > pagesStored);
        }

        return _spill.ReadBack().Where(page => page.Page > pagesStored);
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
            throw new InvalidOperationException("Only a pass that holds all its pages proves rows all at once (a counting pass proves them a range at a time).");
        }

        return Witnessed(IsFull);
    }

    /// <summary>
    /// <see cref="WitnessedByNumber"/> for the numbers <paramref name="inRange"/> accepts. A <see cref="Counting"/> pass
    /// reads them back from its spill: what a number's rows prove depends only on that number's rows, page by page, and
    /// on whether the whole pass is full, so a range's rows prove alone what they prove in the whole pass.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<UpstreamRecipient>> WitnessedIn(Func<string, bool> inRange)
    {
        if (HoldsAllPages)
        {
            return WitnessedByNumber().Where(pair => inRange(pair.Key)).ToDictionary(StringComparer.Ordinal);
        }

        if (_spill is null || !CountsAllPages)
        {
            throw new InvalidOperationException("Only a pass that counts all its pages proves rows.");
        }

        // Pages keep their order (and equal rows on one page stay two messages); pages with none of the range's rows drop out.
        var part = new UpstreamPass();
        foreach (var (_, rows) in _spill.ReadBack())
        {
            var inPart = rows.Where(row => inRange(row.PhoneNumber)).ToList();
            if (inPart.Count > 0)
            {
                part.Add(inPart, null);
            }
        }

        return part.Witnessed(IsFull);
    }

    private void Count(IReadOnlyList<UpstreamRecipient> page, int? announcedTotal)
    {
        AnnouncedTotal = announcedTotal ?? AnnouncedTotal;
        var pageIndex = PagesRead; // this page's number in the pass
        _spill?.Append(pageIndex, page);
        _distinct.EnsureCapacity(_distinct.Count + page.Count);
        _firstSeen?.EnsureCapacity(_firstSeen.Count + page.Count);
        foreach (var row in page)
        {
            var key = RowFingerprint.Of(row);
            ref var distinct = ref CollectionsMarshal.GetValueRefOrAddDefault(_distinct, key, out var seenBefore);
            if (!seenBefore)
            {
                _firstSeen?.Add((row, key)); // with its key: the witnessed rows look their count up without hashing again
            }

            if (distinct.CountOn(pageIndex))
            {
                _distinctCounted++;
            }

            Sample(row.PhoneNumber);
            if (row.Status == DeliveryStatus.Unknown)
            {
                _unknownStatuses.Add(row.RawStatus);
            }
        }
    }

    /// <summary>From now on pages are counted and spilled, not held: the pages held so far go first.</summary>
    private void SpillHeldPages()
    {
        _spill = _spillOver!();
        var number = PagesBefore + _pagesCounted;
        foreach (var page in _pages)
        {
            _spill.Append(++number, page);
            _lastPageBefore = page;
        }

        _pagesCounted += _pages.Count;
        _rowsCounted += _rowsHeld;
        _pages.Clear();
        _rowsHeld = 0;
        _firstSeen = null;
    }

    /// <summary>Reservoir sampling: after n rows, each of them is in the sample with the same chance.</summary>
    private void Sample(string number)
    {
        if (_sample is null)
        {
            return;
        }

        _sampled++;
        if (_sample.Count < SampleSize)
        {
            _sample.Add(number);
            return;
        }

        var slot = _sampling!.Next(_sampled);
        if (slot < SampleSize)
        {
            _sample[slot] = number;
        }
    }

    /// <summary>The rows held proven per number (see <see cref="WitnessedByNumber"/>), as if the pass were full or not.</summary>
    private Dictionary<string, IReadOnlyList<UpstreamRecipient>> Witnessed(bool full)
    {
        var result = new Dictionary<string, IReadOnlyList<UpstreamRecipient>>(_firstSeen!.Count, StringComparer.Ordinal);
        foreach (var (row, key) in _firstSeen)
        {
            var times = _distinct[key].Most;
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
        var most = new Dictionary<string, PageCount>(_firstSeen!.Count, StringComparer.Ordinal);
        for (var index = 0; index < _pages.Count; index++)
        {
            foreach (var row in _pages[index])
            {
                CollectionsMarshal.GetValueRefOrAddDefault(most, row.PhoneNumber, out _).CountOn(index + 1);
            }
        }

        return most;
    }

    /// <summary>
    /// A row's identity as the record's equality sees it (number, wording, stop, instant): 128 bits, so two different rows
    /// of a pass share one with a chance of about 10^-29, where 64 bits would make a 100,000-row pass ~3 in 10^10.
    /// </summary>
    private readonly record struct RowFingerprint(ulong High, ulong Low)
    {
        public static RowFingerprint Of(UpstreamRecipient row)
        {
            var size = (2 * sizeof(int)) + (2 * (row.PhoneNumber.Length + row.RawStatus.Length)) + 2 + sizeof(long);
            byte[]? rented = null;
            var buffer = size <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(size));
            try
            {
                var at = 0;
                Write(buffer, ref at, row.PhoneNumber);
                Write(buffer, ref at, row.RawStatus);
                buffer[at++] = row.StopSms ? (byte)1 : (byte)0;
                buffer[at++] = row.StatusAt.HasValue ? (byte)1 : (byte)0;
                BinaryPrimitives.WriteInt64LittleEndian(buffer[at..], row.StatusAt?.UtcTicks ?? 0);
                at += sizeof(long);
                var hash = XxHash128.HashToUInt128(buffer[..at]);
                return new RowFingerprint((ulong)(hash >> 64), (ulong)hash);
            }
            finally
            {
                if (rented is not null)
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }
            }

            static void Write(Span<byte> buffer, ref int at, string text)
            {
                BinaryPrimitives.WriteInt32LittleEndian(buffer[at..], text.Length);
                at += sizeof(int);
                MemoryMarshal.AsBytes(text.AsSpan()).CopyTo(buffer[at..]);
                at += 2 * text.Length;
            }
        }

        public bool Equals(RowFingerprint other) => High == other.High && Low == other.Low;

        public override int GetHashCode() => (int)Low;
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
