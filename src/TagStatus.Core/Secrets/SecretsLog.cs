using Microsoft.Extensions.Logging;

namespace TagStatus.Core.Secrets;

/// <summary>Source-generated logs of the secret sources. They name secrets and the vault host, never a value.</summary>
internal static partial class SecretsLog
{
    [LoggerMessage(EventId = 5000, Level = LogLevel.Information, Message = "Secrets come from Key Vault {VaultHost}, cached for {CacheDuration}")]
    public static partial void UsingKeyVault(ILogger logger, string vaultHost, TimeSpan cacheDuration);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Secrets come from configuration (local run); no Key Vault is used")]
    public static partial void UsingConfiguration(ILogger logger);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Debug, Message = "Read secret {SecretName} version {SecretVersion} from Key Vault {VaultHost}")]
    public static partial void SecretRead(ILogger logger, string secretName, string? secretVersion, string vaultHost);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Error, Message = "Could not read secret {SecretName} from Key Vault {VaultHost}")]
    public static partial void SecretReadFailed(ILogger logger, Exception exception, string secretName, string vaultHost);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Secret {SecretName} was refused; re-read it from Key Vault {VaultHost}: now version {SecretVersion}")]
    public static partial void SecretRotated(ILogger logger, string secretName, string vaultHost, string? secretVersion);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "Secret {SecretName} was refused, but Key Vault {VaultHost} still holds the same value (version {SecretVersion})")]
    public static partial void RefusedValueStillCurrent(ILogger logger, string secretName, string vaultHost, string? secretVersion);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Debug, Message = "Secret {SecretName} was refused, but a newer value is already cached; no vault read")]
    public static partial void RefusedValueAlreadyReplaced(ILogger logger, string secretName);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Warning, Message = "Setting {SettingName} was refused; the configured value is still the same. Fix it in local.settings.json")]
    public static partial void ConfiguredValueRefused(ILogger logger, string settingName);
}
