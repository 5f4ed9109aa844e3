namespace SmsPartner.Simulator;

/// <summary>Source-generated log messages. None of them carries an API key: keys are only "accepted" or "refused".</summary>
internal static partial class SimulatorLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Status request for tag {Tag}: API key accepted")]
    public static partial void KeyAccepted(ILogger logger, string tag);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Status request refused: API key {Reason}")]
    public static partial void KeyRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Status request for unknown tag {Tag}")]
    public static partial void UnknownTag(ILogger logger, string tag);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Serving fault {Kind} for tag {Tag}")]
    public static partial void FaultServed(ILogger logger, FaultKind kind, string tag);

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Seeded tag {Tag} with {Count} recipients")]
    public static partial void TagSeeded(ILogger logger, string tag, int count);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Removed tag {Tag}: {Removed}")]
    public static partial void TagRemoved(ILogger logger, string tag, bool removed);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "Accepted API keys replaced: {Count} key(s) now valid")]
    public static partial void KeysRotated(ILogger logger, int count);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "Queued fault {Kind} for {Count} call(s), tag filter {Tag}")]
    public static partial void FaultQueued(ILogger logger, FaultKind kind, int count, string? tag);

    [LoggerMessage(EventId = 14, Level = LogLevel.Information, Message = "Clock advanced by {Seconds} s; simulator time is now {Now}")]
    public static partial void ClockAdvanced(ILogger logger, double seconds, DateTimeOffset now);

    [LoggerMessage(EventId = 15, Level = LogLevel.Information, Message = "Response shape changed to {Paging}")]
    public static partial void PagingChanged(ILogger logger, PagingSettings paging);

    [LoggerMessage(EventId = 16, Level = LogLevel.Information, Message = "Simulator state reset")]
    public static partial void StateReset(ILogger logger);

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Loaded seed file {Path}: {TagCount} tag(s)")]
    public static partial void SeedFileLoaded(ILogger logger, string path, int tagCount);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "Demo campaign seeded: tags {Tags}")]
    public static partial void DemoSeeded(ILogger logger, string tags);

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "Admin request refused: {Reason}")]
    public static partial void AdminBadRequest(ILogger logger, string reason);
}
