using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using TagStatus.Core.Operations;

namespace TagStatus.Tests.Support;

/// <summary>
/// The app's meter from a meter factory of its own, so a test collects only what its own objects record (tests run in
/// parallel and share the meter's name).
/// </summary>
public sealed class TestMeters : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public TestMeters() => Metrics = new TagStatusMetrics(Factory);

    public IMeterFactory Factory => _services.GetRequiredService<IMeterFactory>();

    public TagStatusMetrics Metrics { get; }

    public MetricCollector<T> Collect<T>(string instrument)
        where T : struct => new(Factory, TagStatusMetrics.MeterName, instrument);

    public void Dispose() => _services.Dispose();
}
