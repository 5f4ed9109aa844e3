using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Queues;
using TagStatus.Core.Tracking;

namespace TagStatus.LocalHost;

/// <summary>
/// The queue-triggered functions (<c>RefreshTag</c>, <c>DeliverCallback</c>) for the LocalHost: polls the same Azurite
/// queues and hands each message to the same Core processor, with the queue trigger's rules from host.json's defaults
/// here: a message that throws comes back after <see cref="RetryVisibility"/>, and after <see cref="MaxDequeueCount"/>
/// tries it moves to <c>&lt;queue&gt;-poison</c>. A message taken by a worker that dies comes back after
/// <c>LocalHost:QueueLease</c> (5 min). No behaviour of its own.
/// </summary>
public sealed partial class QueueWorker(
    StorageWorkQueue queues,
    RefreshQueueProcessor refreshes,
    CallbackDispatcher callbacks,
    TimeProvider time,
    IConfiguration configuration,
    ILogger<QueueWorker> logger) : BackgroundService
{
    public const int MaxDequeueCount = 5;
    private const int BatchSize = 16;
    private static readonly TimeSpan RetryVisibility = TimeSpan.FromSeconds(30);
    private readonly TimeSpan _leaseVisibility = configuration.GetValue("LocalHost:QueueLease", TimeSpan.FromMinutes(5));
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(500);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await queues.EnsureCreatedAsync(stoppingToken).ConfigureAwait(false);
                var refreshed = await DrainAsync(queues.RefreshQueue, text => refreshes.ProcessAsync(WorkMessages.Parse<RefreshMessage>(text), stoppingToken), stoppingToken).ConfigureAwait(false);
                var delivered = await DrainAsync(queues.CallbacksQueue, text => callbacks.DeliverAsync(WorkMessages.Parse<DeliveryMessage>(text), stoppingToken), stoppingToken).ConfigureAwait(false);
                if (refreshed + delivered == 0)
                {
                    await Task.Delay(IdlePoll, time, stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Log.PollFailed(logger, e);
                await Task.Delay(TimeSpan.FromSeconds(2), time, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    /// <returns>How many messages were taken.</returns>
    private async Task<int> DrainAsync(QueueClient queue, Func<string, Task> handle, CancellationToken cancellationToken)
    {
        QueueMessage[] batch = await queue.ReceiveMessagesAsync(BatchSize, _leaseVisibility, cancellationToken).ConfigureAwait(false);
        await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (message, ct) =>
        {
            try
            {
                await handle(message.MessageText).ConfigureAwait(false);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                await FailAsync(queue, message, e, ct).ConfigureAwait(false);
            }
        }).ConfigureAwait(false);
        return batch.Length;
    }

    private async Task FailAsync(QueueClient queue, QueueMessage message, Exception failure, CancellationToken cancellationToken)
    {
        if (message.DequeueCount >= MaxDequeueCount)
        {
            var poison = queues.PoisonQueueOf(queue);
            await poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await poison.SendMessageAsync(message.MessageText, cancellationToken).ConfigureAwait(false);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken).ConfigureAwait(false);
            Log.Poisoned(logger, queue.Name, message.MessageId, message.DequeueCount, failure);
            return;
        }

        await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: RetryVisibility, cancellationToken: cancellationToken).ConfigureAwait(false);
        Log.MessageFailed(logger, queue.Name, message.MessageId, message.DequeueCount, failure);
    }

    private static partial class Log
    {
        [LoggerMessage(7111, LogLevel.Warning, "Message {MessageId} of queue {Queue} failed on try {DequeueCount}; it comes back")]
        public static partial void MessageFailed(ILogger logger, string queue, string messageId, long dequeueCount, Exception exception);

        [LoggerMessage(7112, LogLevel.Error, "Message {MessageId} of queue {Queue} failed {DequeueCount} times; moved to the poison queue")]
        public static partial void Poisoned(ILogger logger, string queue, string messageId, long dequeueCount, Exception exception);

        [LoggerMessage(7113, LogLevel.Warning, "The queues could not be polled; trying again shortly")]
        public static partial void PollFailed(ILogger logger, Exception exception);
    }
}
