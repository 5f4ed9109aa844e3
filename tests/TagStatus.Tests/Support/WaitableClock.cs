using Microsoft.Extensions.Time.Testing;

namespace TagStatus.Tests.Support;

/// <summary>
/// A fake clock that also tells when the code under test starts waiting on it. Task.Delay resumes its awaiter on the
/// thread pool after <see cref="FakeTimeProvider.Advance"/> returns, so a test that advances again must first know the
/// next wait is registered, or the second advance would come before it.
/// </summary>
internal sealed class WaitableClock(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly Lock _sync = new();
    private readonly List<(int Count, TaskCompletionSource Reached)> _watchers = [];
    private int _timers;

    public int TimersCreated
    {
        get
        {
            lock (_sync)
            {
                return _timers;
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        lock (_sync)
        {
            _timers++;
            foreach (var watcher in _watchers.Where(w => w.Count <= _timers).ToList())
            {
                watcher.Reached.TrySetResult();
                _watchers.Remove(watcher);
            }
        }

        return timer;
    }

    /// <summary>Completes once <paramref name="count"/> waits have been registered in all; fails after 10 s of real time.</summary>
    public Task UntilTimersCreatedAsync(int count)
    {
        lock (_sync)
        {
            if (_timers >= count)
            {
                return Task.CompletedTask;
            }

            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _watchers.Add((count, reached));
            return reached.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }
}
