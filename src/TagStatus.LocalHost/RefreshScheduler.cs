using Cronos;
using TagStatus.Core.Tracking;

namespace TagStatus.LocalHost;

/// <summary>
/// The <c>RefreshPendingTags</c> timer: waits for the next occurrence of the NCRONTAB in <c>RefreshSchedule</c> (six
/// fields, seconds first, UTC like the Functions host) and runs the same <see cref="RefreshRunner"/>. Runs never
/// overlap; a run that throws is logged and the next occurrence runs as usual, as a failed timer invocation would.
/// </summary>
public sealed partial class RefreshScheduler(RefreshRunner runner, CronExpression schedule, TimeProvider time, ILogger<RefreshScheduler> logger)
    : BackgroundService
{
    /// <summary>The app setting the Functions timer names as <c>%RefreshSchedule%</c>.</summary>
    public const string ScheduleSetting = "RefreshSchedule";

    /// <summary>The documented default (docs/settings.md): every minute.</summary>
    public const string DefaultSchedule = "0 */1 * * * *";

    /// <summary>Reads and parses <c>RefreshSchedule</c>; a bad value stops the start with a message naming the setting.</summary>
    public static CronExpression ReadSchedule(IConfiguration configuration)
    {
        var text = configuration[ScheduleSetting];
        if (string.IsNullOrWhiteSpace(text))
        {
            text = DefaultSchedule;
        }

        try
        {
            return CronExpression.Parse(text, CronFormat.IncludeSeconds);
        }
        catch (CronFormatException e)
        {
            throw new InvalidOperationException(
                $"{ScheduleSetting} '{text}' is not an NCRONTAB expression with six fields (second minute hour day month day-of-week): {e.Message}", e);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Log.Scheduled(logger, schedule.ToString());
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            if (schedule.GetNextOccurrence(now.UtcDateTime, TimeZoneInfo.Utc) is not { } next)
            {
                Log.NoNextOccurrence(logger, schedule.ToString());
                return;
            }

            try
            {
                await Task.Delay(next - now.UtcDateTime, time, stoppingToken).ConfigureAwait(false);
                await runner.RunAsync(stoppingToken).ConfigureAwait(false);
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
        [LoggerMessage(7101, LogLevel.Information, "RefreshPendingTags scheduled on '{Schedule}' (UTC)")]
        public static partial void Scheduled(ILogger logger, string schedule);

        [LoggerMessage(7102, LogLevel.Warning, "RefreshPendingTags schedule '{Schedule}' has no next occurrence; the timer stops")]
        public static partial void NoNextOccurrence(ILogger logger, string schedule);

        [LoggerMessage(7103, LogLevel.Error, "RefreshPendingTags failed; the next occurrence runs as usual")]
        public static partial void RunFailed(ILogger logger, Exception exception);
    }
}
