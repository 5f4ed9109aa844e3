using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace TagStatus.Core.Secrets;

/// <summary>
/// Local runs: secrets come from configuration (<c>SmsPartner:ApiKey</c>, <c>Callbacks:SigningKey</c>, that is
/// <c>SmsPartner__ApiKey</c> and <c>Callbacks__SigningKey</c> in local.settings.json). Configuration is already
/// in memory, so each call reads it again and an edited, reloaded value is picked up.
/// </summary>
public sealed class ConfigurationSecretSource : ISecretSource
{
    public const string SmsPartnerApiKeySetting = "SmsPartner:ApiKey";
    public const string CallbackSigningKeySetting = "Callbacks:SigningKey";

    private readonly IConfiguration _configuration;
    private readonly ILogger _logger;

    public ConfigurationSecretSource(IConfiguration configuration, ILogger<ConfigurationSecretSource> logger)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(logger);
        _configuration = configuration;
        _logger = logger;
        SecretsLog.UsingConfiguration(logger);
    }

    /// <summary>The configuration key that holds <paramref name="secret"/> on a local run.</summary>
    public static string SettingOf(AppSecret secret) => secret switch
    {
        AppSecret.SmsPartnerApiKey => SmsPartnerApiKeySetting,
        AppSecret.CallbackSigningKey => CallbackSigningKeySetting,
        _ => throw new ArgumentOutOfRangeException(nameof(secret), secret, "Unknown secret."),
    };

    public ValueTask<string> GetAsync(AppSecret secret, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Read(secret));

    public ValueTask<string> RefreshAsync(AppSecret secret, string refusedValue, CancellationToken cancellationToken)
    {
        var value = Read(secret);
        if (string.Equals(value, refusedValue, StringComparison.Ordinal))
        {
            SecretsLog.ConfiguredValueRefused(_logger, SettingOf(secret));
        }

        return ValueTask.FromResult(value);
    }

    private string Read(AppSecret secret)
    {
        var setting = SettingOf(secret);
        var value = _configuration[setting];
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new SecretUnavailableException(
                secret,
                setting,
                "configuration",
                $"Setting {setting} is not set. Set {setting.Replace(":", "__", StringComparison.Ordinal)} in local.settings.json, or set {SecretsOptions.SectionName}:VaultUri to read secrets from Key Vault.");
        }

        return value;
    }
}
