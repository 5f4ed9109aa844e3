using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using TagStatus.Core.Tracking;

namespace TagStatus.Functions;

/// <summary>
/// Retention, once a day at 03:17 UTC (a fixed time: daily is all it needs). No <c>RunOnStartup</c>; the claim in storage
/// makes one instance run it, and a replay finds nothing left to delete.
/// </summary>
public sealed partial class RetentionFunction(RetentionRunner runner, ILogger<RetentionFunction> logger)
{
    [Function("Retention")]
    public async Task RunAsync([TimerTrigger(RetentionRunner.Schedule)] TimerInfo timer, CancellationToken cancellationToken)
    {
        if (timer.IsPastDue)
        {
            Log.PastDue(logger);
        }

        await runner.RunIfDueAsync(cancellationToken).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(4302, LogLevel.Warning, "Retention is running late (IsPastDue)")]
        public static partial void PastDue(ILogger logger);
    }
}
