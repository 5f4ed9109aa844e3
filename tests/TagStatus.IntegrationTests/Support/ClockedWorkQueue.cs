using System.Collections.Concurrent;
using TagStatus.Core.Queues;

namespace TagStatus.IntegrationTests.Support;

/// <summary>
/// The refresh and callbacks queues for flow tests whose clock is moved by hand: a message's visibility delay runs on
/// that clock, as Azure's runs on real time. (The real <see cref="StorageWorkQueue"/> on Azurite has its own tests.)
/// Shared by a harness and its restarts, as a real queue outlives a worker.
/// </summary>
public sealed class ClockedWorkQueue(TimeProvider clock) : IWorkQueue, IQueueLengths
{
    public const string RefreshQueueName = "clocked-refresh";
    public const string CallbacksQueueName = "clocked-callbacks";

    private readonly ConcurrentQueue<(RefreshMessage Message, DateTimeOffset VisibleAt)> _refreshes = new();
    private readonly ConcurrentQueue<(DeliveryMessage Message, DateTimeOffset VisibleAt)> _deliveries = new();

    public int RefreshesQueued { get; private set; }

    public Task EnqueueRefreshAsync(RefreshMessage message, CancellationToken cancellationToken) =>
        EnqueueRefreshAsync(message, TimeSpan.Zero, cancellationToken);

    public Task EnqueueRefreshAsync(RefreshMessage message, TimeSpan delay, CancellationToken cancellationToken)
    {
        _refreshes.Enqueue((message, clock.GetUtcNow() + delay));
        RefreshesQueued++;
        return Task.CompletedTask;
    }

    public Task EnqueueDeliveryAsync(DeliveryMessage message, TimeSpan delay, CancellationToken cancellationToken)
    {
        _deliveries.Enqueue((message, clock.GetUtcNow() + delay));
        return Task.CompletedTask;
    }

    /// <summary>Takes every refresh message visible now.</summary>
    public IReadOnlyList<RefreshMessage> TakeRefreshes() => Take(_refreshes);

    /// <summary>Takes every delivery message visible now; later ones stay.</summary>
    public IReadOnlyList<DeliveryMessage> TakeDeliveries() => Take(_deliveries);

    /// <summary>Loses every message: what a queue write that never happened looks like.</summary>
    public void Clear()
    {
        _refreshes.Clear();
        _deliveries.Clear();
    }

    private List<T> Take<T>(ConcurrentQueue<(T Message, DateTimeOffset VisibleAt)> queue)
    {
        var now = clock.GetUtcNow();
        var taken = new List<T>();
        var later = new List<(T, DateTimeOffset)>();
        while (queue.TryDequeue(out var item))
        {
            if (item.VisibleAt <= now)
            {
                taken.Add(item.Message);
            }
            else
            {
                later.Add(item);
            }
        }

        later.ForEach(queue.Enqueue);
        return taken;
    }

    /// <summary>Every message held, visible or not, as Azure's approximate count has it.</summary>
    public Task<IReadOnlyList<QueueLength>> ReadLengthsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<QueueLength>>([new(RefreshQueueName, _refreshes.Count), new(CallbacksQueueName, _deliveries.Count)]);
}
