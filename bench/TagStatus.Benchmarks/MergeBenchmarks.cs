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
    }

    [Benchmark(Baseline = true, Description = "Merge, all unchanged")]
    public MergeResult Unchanged() => RecipientMerge.Merge(_unchanged, _upstream);

    [Benchmark(Description = "Merge, 10% changed")]
    public MergeResult TenPercentChanged() => RecipientMerge.Merge(_tenPercentChanged, _upstream);

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
