namespace SmsPartner.Simulator;

/// <summary>
/// The simulator's clock: a base <see cref="TimeProvider"/> (the system clock by default) plus an offset that
/// tests move forward, so Waiting rows settle without sleeping. Timestamps and timers are not shifted.
/// </summary>
public sealed class SimulatorClock(TimeProvider inner) : TimeProvider
{
    private long _offsetTicks;

    /// <summary>How far the clock has been advanced past the base clock.</summary>
    public TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow() + Offset;

    public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override long GetTimestamp() => inner.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        inner.CreateTimer(callback, state, dueTime, period);

    /// <summary>Moves the clock forward. Negative values are refused: time never runs backwards here.</summary>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        Interlocked.Add(ref _offsetTicks, by.Ticks);
    }

    /// <summary>Drops the offset: the clock reads the base clock again.</summary>
    public void Reset() => Interlocked.Exchange(ref _offsetTicks, 0);
}
