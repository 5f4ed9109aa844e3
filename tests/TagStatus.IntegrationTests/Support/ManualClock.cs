namespace TagStatus.IntegrationTests.Support;

/// <summary>
/// A clock whose "now" moves only when a test says so, while delays and timeouts (HTTP retries, Polly, Kestrel) still
/// run on real time: a FakeTimeProvider would freeze those too.
/// </summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long _utcTicks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _utcTicks, by.Ticks);
}
