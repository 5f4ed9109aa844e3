using Microsoft.Azure.Functions.Worker;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Queues;

namespace TagStatus.Functions;

/// <summary>
/// Delivers the one outbox row a message on the callbacks queue points at. Back-off rides on new messages with a
/// visibility delay; a storage failure throws, so the queue brings the message back.
/// </summary>
public sealed class DeliverCallbackFunction(CallbackDispatcher dispatcher)
{
    [Function("DeliverCallback")]
    public Task RunAsync([QueueTrigger($"%{WorkQueueOptions.CallbacksQueueSetting}%")] string message, CancellationToken cancellationToken) =>
        dispatcher.DeliverAsync(WorkMessages.Parse<DeliveryMessage>(message), cancellationToken);
}
