using System.Reflection;
using BenchmarkDotNet.Attributes;
using TagStatus.Api.Handlers;
using TagStatus.Core.Domain;
using TagStatus.Core.Lookup;

namespace TagStatus.Benchmarks;

/// <summary>
/// What one <c>GET /api/tags/{tag}</c> does with a 10,000-recipient snapshot once it has it: page and filter
/// (<see cref="RecipientQuery.Apply"/>), the CSV body (<see cref="RecipientCsv.Write"/>), and the weak ETag
/// (<c>TagLookupHandler.EntityTag</c>, private, called through a delegate so the real code is measured).
/// </summary>
[Config(typeof(ShortConfig))]
public class LookupBenchmarks
{
    private const int Recipients = 10_000;

    private static readonly Func<TagSummary, IEnumerable<Recipient>, string, string> EntityTag =
        typeof(TagLookupHandler).GetMethod("EntityTag", BindingFlags.NonPublic | BindingFlags.Static)?
            .CreateDelegate<Func<TagSummary, IEnumerable<Recipient>, string, string>>()
        ?? throw new InvalidOperationException("TagLookupHandler.EntityTag(TagSummary, IEnumerable<Recipient>, string) is gone: update the benchmark.");

    private List<Recipient> _recipients = null!;
    private TagSnapshot _snapshot = null!;
    private RecipientQuery _firstPage = null!;
    private RecipientQuery _lastPage = null!;
    private RecipientQuery _notDeliveredPage2 = null!;

    [GlobalSetup]
    public void Setup()
    {
        _recipients = Data.StoredWithTenPercentWaiting(Data.Upstream(Recipients));
        var counts = TagCounts.Of(_recipients);
        var summary = new TagSummary(
            Tag.Parse("bench"), TagState.Pending, counts, Tracked: true, Data.Sent, Data.Sent.AddMinutes(5), null, Data.Sent.AddMinutes(10));
        _snapshot = new TagSnapshot(summary, _recipients);
        _firstPage = new RecipientQuery(null, 1, RecipientQuery.DefaultPageSize);
        _lastPage = new RecipientQuery(null, Recipients / RecipientQuery.DefaultPageSize, RecipientQuery.DefaultPageSize);
        _notDeliveredPage2 = new RecipientQuery(new HashSet<DeliveryStatus> { DeliveryStatus.NotDelivered }, 2, RecipientQuery.DefaultPageSize);

        if (_lastPage.Apply(_recipients) is not { Items.Count: RecipientQuery.DefaultPageSize, HasMore: false }
            || _notDeliveredPage2.Apply(_recipients).Items.Count == 0)
        {
            throw new InvalidOperationException("Benchmark setup: the queries do not select what they claim to.");
        }
    }

    [Benchmark(Description = "Apply: page 1 of 100, no filter")]
    public (IReadOnlyList<Recipient>, bool) FirstPage() => _firstPage.Apply(_recipients);

    [Benchmark(Description = "Apply: page 100 of 100, no filter")]
    public (IReadOnlyList<Recipient>, bool) LastPage() => _lastPage.Apply(_recipients);

    [Benchmark(Description = "Apply: notDelivered, page 2 of 100")]
    public (IReadOnlyList<Recipient>, bool) FilteredPage() => _notDeliveredPage2.Apply(_recipients);

    [Benchmark(Description = "RecipientCsv.Write, 10,000 rows")]
    public byte[] Csv() => RecipientCsv.Write(_recipients);

    /// <summary>A JSON answer's ETag covers the page it shows (here the first 100 rows)...</summary>
    [Benchmark(Description = "EntityTag (ETag), JSON page of 100")]
    public string ETagOfPage() => EntityTag(_snapshot.Summary, _firstPage.Apply(_recipients).Items, "json|1|100|True");

    /// <summary>... and a CSV answer's every row it holds.</summary>
    [Benchmark(Description = "EntityTag (ETag), CSV of 10,000 rows")]
    public string ETagOfAll() => EntityTag(_snapshot.Summary, _recipients, "csv");
}
