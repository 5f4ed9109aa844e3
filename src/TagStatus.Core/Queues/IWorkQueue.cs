using Azure;
using Azure.Storage.Queues;
using Microsoft.Extensions.Options;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Queues;

/// <summary>Puts work on the Storage queues that the queue-triggered functions (or the LocalHost's poller) take from.</summary>
public interface IWorkQueue
{
    Task EnqueueRefreshAsync(RefreshMessage message, CancellationToken cancellationToken);

    /// <param name="delay">How long the message stays invisible: a big tag's next step is paced on the queue.</param>
    Task EnqueueRefreshAsync(RefreshMessage message, TimeSpan delay, CancellationToken cancellationToken);

    /// <param name="delay">How long the message stays invisible: a retry's back-off rides on the queue, not on a timer.</param>
    Task EnqueueDeliveryAsync(DeliveryMessage message, TimeSpan delay, CancellationToken cancellationToken);
}

/// <summary>How many messages wait in each work queue and its poison queue, for the metrics and the health route.</summary>
public interface IQueueLengths
{
    /// <summary>Approximate counts by queue name; a queue that does not exist yet counts 0.</summary>
    Task<IReadOnlyList<QueueLength>> ReadLengthsAsync(CancellationToken cancellationToken);
}

public sealed record QueueLength(string Queue, long Messages);

/// <summary>The queues in Azure Storage (Azurite locally), created on first use like the tables when <paramref name="createQueues"/>.</summary>
public sealed class StorageWorkQueue(QueueServiceClient service, IOptions<WorkQueueOptions> options, bool createQueues = true) : IWorkQueue, IQueueLengths
{
    /// <summary>Azure's longest visibility delay.</summary>
    private static readonly TimeSpan MaxDelay = TimeSpan.FromDays(7);

    private readonly QueueClient _refresh = service.GetQueueClient(options.Value.RefreshQueue);
    private readonly QueueClient _callbacks = service.GetQueueClient(options.Value.CallbacksQueue);
    private readonly OnceGate _created = new();

    public QueueClient RefreshQueue => _refresh;

    public QueueClient CallbacksQueue => _callbacks;

    /// <summary>Where a message goes after too many failed tries: the Functions host's naming, <c>&lt;queue&gt;-poison</c>.</summary>
    public QueueClient PoisonQueueOf(QueueClient queue) => service.GetQueueClient(queue.Name + "-poison");

    public Task EnqueueRefreshAsync(RefreshMessage message, CancellationToken cancellationToken) =>
        EnqueueRefreshAsync(message, TimeSpan.Zero, cancellationToken);

    public Task EnqueueRefreshAsync(RefreshMessage message, TimeSpan delay, CancellationToken cancellationToken) =>
        SendAsync(_refresh, WorkMessages.Serialize(message), delay, cancellationToken);

    public Task EnqueueDeliveryAsync(DeliveryMessage message, TimeSpan delay, CancellationToken cancellationToken) =>
        SendAsync(_callbacks, WorkMessages.Serialize(message), delay, cancellationToken);

    /// <summary>Creates both queues once per process (Azurite starts empty); nothing in Azure, where the Bicep has made them.</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken) => !createQueues ? Task.CompletedTask : _created.RunOnceAsync(async ct =>
    {
        await _refresh.CreateIfNotExistsAsync(cancellationToken: ct).ConfigureAwait(false);
        await _callbacks.CreateIfNotExistsAsync(cancellationToken: ct).ConfigureAwait(false);
    }, cancellationToken);

    /// <summary>One properties read per queue: four requests, whatever the history.</summary>
    public async Task<IReadOnlyList<QueueLength>> ReadLengthsAsync(CancellationToken cancellationToken)
    {
        var queues = new[] { _refresh, PoisonQueueOf(_refresh), _callbacks, PoisonQueueOf(_callbacks) };
        var lengths = await Task.WhenAll(queues.Select(async queue =>
        {
            try
            {
                var properties = await queue.GetPropertiesAsync(cancellationToken).ConfigureAwait(false);
                return new QueueLength(queue.Name, properties.Value.ApproximateMessagesCount);
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                return new QueueLength(queue.Name, 0);
            }
            catch (Exception e) when (e is RequestFailedException or AggregateException)
            {
                throw new StoreUnavailableException("Queue Storage could not be reached.", e);
            }
        })).ConfigureAwait(false);
        return lengths;
    }

    private async Task SendAsync(QueueClient queue, string text, TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
            var visibility = delay <= TimeSpan.Zero ? (TimeSpan?)null : delay < MaxDelay ? delay : MaxDelay;
            await queue.SendMessageAsync(text, visibility, timeToLive: TimeSpan.FromSeconds(-1), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RequestFailedException or AggregateException)
        {
            throw new StoreUnavailableException("Queue Storage could not be reached.", e);
        }
    }
}

/// <summary>Runs an initialisation once per process; a failed attempt is tried again by the next caller.</summary>
internal sealed class OnceGate
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _done;

    public async Task RunOnceAsync(Func<CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        if (_done)
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_done)
            {
                await work(cancellationToken).ConfigureAwait(false);
                _done = true;
            }
        }
        finally
        {
            _gate.Release();
        }
    }
}
