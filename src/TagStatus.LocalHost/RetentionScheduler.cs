using Cronos;
using TagStatus.Core.Tracking;

namespace TagStatus.LocalHost;

/// <summary>The <c>Retention</c> timer: the same fixed daily schedule as the Functions app, the same <see cref="RetentionRunner"/>.</summary>
public sealed partial class RetentionScheduler(RetentionRunner runner, TimeProvider time, ILogger<RetentionScheduler> logger) : BackgroundService
{
    private static readonly CronExpression Schedule = CronExpression.Parse(RetentionRunner.Schedule, CronFormat.IncludeSeconds);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            if (Schedule.GetNextOccurrence(now.UtcDateTime, TimeZoneInfo.Utc) is not { } next)
            {
                return;
            }

            try
            {
                await Task.Delay(next - now.UtcDateTime, time, stoppingToken).ConfigureAwait(false);
                await runner.RunIfDueAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Log.RunFailed(logger, e);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(7111, LogLevel.Error, "Retention failed; the next occurrence runs as usual")]
        public static partial void RunFailed(ILogger logger, Exception exception);
    }
}
