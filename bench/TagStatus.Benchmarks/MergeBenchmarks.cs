using BenchmarkDotNet.Attributes;
using TagStatus.Core.Domain;

namespace TagStatus.Benchmarks;

/// <summary><see cref="RecipientMerge.Merge"/> of a fresh upstream answer into the stored rows of one tag.</summary>
[Config(typeof(ShortConfig))]
public class MergeBenchmarks
{
    private List<UpstreamRecipient> _upstream = null!;
    private List<Recipient> _unchanged = null!;
    private List<Recipient> _tenPercentChanged = null!;

    [Params(1_000, 10_000)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _upstream = Data.Upstream(Rows);
        _unchanged = Data.StoredFrom(_upstream);
        _tenPercentChanged = Data.StoredWithTenPercentWaiting(_upstream);

        // Guard the scenarios: a benchmark of the wrong case is worse than none.
        Check(RecipientMerge.Merge(_unchanged, _upstream).Changed.Count == 0, "steady state must change nothing");
        Check(RecipientMerge.Merge(_tenPercentChanged, _upstream).Changed.Count == Rows / 10, "10 % must change");
        foreach (var stored in new[] { _unchanged, _tenPercentChanged, [], _unchanged[..(Rows / 2)] })
        {
            var expected = RecipientMerge.Merge(stored, _upstream);
            var proposed = ProposedMerge.Merge(stored, _upstream);
            Check(expected.Recipients.SequenceEqual(proposed.Recipients) && expected.Changed.SequenceEqual(proposed.Changed), "the proposed merge must give the same result");
        }

        // Upstream in any order, with repeated numbers: same recipients; Changed holds the same rows, in recipient order.
        var shuffled = _upstream.Concat(_upstream.Take(Rows / 20).Select(r => r with { RawStatus = "Waiting" })).ToArray();
        new Random(1).Shuffle(shuffled);
        var expectedShuffled = RecipientMerge.Merge(_tenPercentChanged, shuffled);
        var proposedShuffled = ProposedMerge.Merge(_tenPercentChanged, shuffled);
        Check(
            expectedShuffled.Recipients.SequenceEqual(proposedShuffled.Recipients)
                && expectedShuffled.Changed.Order(RecipientOrder.Instance).SequenceEqual(proposedShuffled.Changed),
            "the proposed merge must give the same result for shuffled upstream rows with repeats");
    }

    [Benchmark(Baseline = true, Description = "Merge, all unchanged")]
    public MergeResult Unchanged() => RecipientMerge.Merge(_unchanged, _upstream);

    [Benchmark(Description = "Merge, 10% changed")]
    public MergeResult TenPercentChanged() => RecipientMerge.Merge(_tenPercentChanged, _upstream);

    /// <summary>The fix suggested in bench/README.md, sketched in <see cref="ProposedMerge"/>: not production code.</summary>
    [Benchmark(Description = "Proposed sort-merge, all unchanged")]
    public MergeResult ProposedUnchanged() => ProposedMerge.Merge(_unchanged, _upstream);

    [Benchmark(Description = "Proposed sort-merge, 10% changed")]
    public MergeResult ProposedTenPercentChanged() => ProposedMerge.Merge(_tenPercentChanged, _upstream);

    /// <summary>Floor for "no per-row allocation beyond the result list": copying the rows into a presized list.</summary>
    [Benchmark(Description = "Floor: copy stored into a List<Recipient>")]
    public List<Recipient> ResultListOnly() => new(_unchanged);

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException("Benchmark setup: " + what);
        }
    }
}
