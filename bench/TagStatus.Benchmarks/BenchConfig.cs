using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

namespace TagStatus.Benchmarks;

/// <summary>
/// One short job for every benchmark: 3 warm-up and 10 measured iterations, one launch. The machine has two cores
/// and these runs are for people, not CI, so the whole suite has to finish in a few minutes.
/// </summary>
public sealed class ShortConfig : ManualConfig
{
    public ShortConfig()
    {
        // BenchmarkDotNet builds a generated project out of process; its default 2-minute build timeout is too short
        // when the two cores are busy (it was hit on 2026-11-27 with a load average of 18), so allow 10.
        BuildTimeout = TimeSpan.FromMinutes(10);
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10).WithId("Short"));
        AddDiagnoser(MemoryDiagnoser.Default);

        // Min next to Mean: on a shared two-core box the mean carries other processes' load, the minimum much less.
        AddColumn(StatisticColumn.Min);

        // The default config already exports GitHub markdown to BenchmarkDotNet.Artifacts/results/*-report-github.md.
    }
}
