using Microsoft.Extensions.Logging;
using TagStatus.Core.Queues;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Callbacks;

/// <summary>
/// Once an outbox row is stored (with the change that caused it, in one transaction), puts its message on the
/// callbacks queue. A message lost here (the queue out of reach, a crash) is restored by the hourly sweep.
/// </summary>
public sealed partial class DeliveryEnqueuer(IWorkQueue queue, ILogger<DeliveryEnqueuer> logger) : ICommittedRowsHandler
{
    public async ValueTask OnCommittedAsync(IReadOnlyList<TagCompanionRow> companions, CancellationToken cancellationToken)
    {
        foreach (var delivery in companions.OfType<CallbackDelivery>())
        {
            try
            {
                await queue.EnqueueDeliveryAsync(new DeliveryMessage(delivery.Tag, delivery.EventId, delivery.Subscription.Id), TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreUnavailableException e)
            {
                Log.NotEnqueued(logger, delivery.EventId, delivery.Tag, e);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(5150, LogLevel.Warning, "Callback {EventId} of tag {Tag} is stored but could not be queued; the hourly sweep queues it")]
        public static partial void NotEnqueued(ILogger logger, string eventId, string tag, Exception exception);
    }
}
