using Microsoft.Azure.Functions.Worker;
using TagStatus.Core.Queues;
using TagStatus.Core.Tracking;

namespace TagStatus.Functions;

/// <summary>
/// Refreshes the one tag a message on the refresh queue names (the timer queues one per due tag). The queue gives the
/// retries, <c>dequeueCount</c> and the poison queue; Flex Consumption scales it out. A message that does not parse
/// throws and ends in the poison queue, where it belongs.
/// </summary>
public sealed class RefreshTagFunction(RefreshQueueProcessor processor)
{
    [Function("RefreshTag")]
    public Task RunAsync([QueueTrigger($"%{WorkQueueOptions.RefreshQueueSetting}%")] string message, CancellationToken cancellationToken) =>
        processor.ProcessAsync(WorkMessages.Parse<RefreshMessage>(message), cancellationToken);
}
