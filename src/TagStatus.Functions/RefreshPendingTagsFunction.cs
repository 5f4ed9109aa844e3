using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using TagStatus.Core.Tracking;

namespace TagStatus.Functions;

/// <summary>
/// The scheduled refresh, on the NCRONTAB in the app setting <c>RefreshSchedule</c>. No <c>RunOnStartup</c>: it would
/// fire on every scale-out. The work is idempotent, since a lost lease can replay a run.
/// </summary>
public sealed partial class RefreshPendingTagsFunction(RefreshRunner runner, ILogger<RefreshPendingTagsFunction> logger)
{
    [Function("RefreshPendingTags")]
    public async Task RunAsync([TimerTrigger("%RefreshSchedule%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        if (timer.IsPastDue)
        {
            Log.PastDue(logger);
        }

        await runner.RunAsync(cancellationToken).ConfigureAwait(false);
    }

    private static partial class Log
    {
        [LoggerMessage(4301, LogLevel.Warning, "RefreshPendingTags is running late (IsPastDue)")]
        public static partial void PastDue(ILogger logger);
    }
}
