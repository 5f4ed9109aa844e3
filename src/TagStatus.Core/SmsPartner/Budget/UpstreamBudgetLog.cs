using Microsoft.Extensions.Logging;

namespace TagStatus.Core.SmsPartner.Budget;

/// <summary>Budget logs name a key by its hash only.</summary>
internal static partial class UpstreamBudgetLog
{
    [LoggerMessage(1101, LogLevel.Debug, "Another instance wrote the SMS Partner budget {KeyHash} first; re-reading it")]
    public static partial void WriteConflict(ILogger logger, string keyHash);

    [LoggerMessage(1102, LogLevel.Warning, "SMS Partner answered 429: every instance holds its calls with budget {KeyHash} until {BlockedUntil}")]
    public static partial void Blocked(ILogger logger, string keyHash, DateTimeOffset blockedUntil);

    [LoggerMessage(1103, LogLevel.Error, "The shared SMS Partner budget cannot be reached in Table Storage; calls to SMS Partner are refused until it can")]
    public static partial void Unavailable(ILogger logger, Exception exception);

    [LoggerMessage(1104, LogLevel.Warning, "SMS Partner answered 429 but the shared budget could not store it; only this call's retry waits")]
    public static partial void BlockNotStored(ILogger logger, Exception exception);

    [LoggerMessage(1105, LogLevel.Debug, "A call woke after its SMS Partner budget {KeyHash} slot of {Slot} had passed; it takes another")]
    public static partial void SlotMissed(ILogger logger, string keyHash, DateTimeOffset slot);
}
