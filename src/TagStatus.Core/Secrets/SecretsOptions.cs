using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace TagStatus.Core.Secrets;

/// <summary>Where the app's secrets come from, bound from the <c>Secrets</c> section.</summary>
public sealed class SecretsOptions
{
    public const string SectionName = "Secrets";

    /// <summary>Key Vault URI (<c>https://name.vault.azure.net/</c>). When empty, secrets come from configuration.</summary>
    public string? VaultUri { get; set; }

    /// <summary>Key Vault secret holding the SMS Partner API key.</summary>
    public string SmsPartnerApiKeyName { get; set; } = "smspartner-api-key";

    /// <summary>Key Vault secret holding the callback HMAC signing key.</summary>
    public string CallbackSigningKeyName { get; set; } = "callback-signing-key";

    /// <summary>How long a secret read from the vault is reused before the next read.</summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>True when secrets come from Key Vault.</summary>
    public bool UsesKeyVault => !string.IsNullOrWhiteSpace(VaultUri);

    /// <summary>The Key Vault secret name that holds <paramref name="secret"/>.</summary>
    public string SecretNameOf(AppSecret secret) => secret switch
    {
        AppSecret.SmsPartnerApiKey => SmsPartnerApiKeyName,
        AppSecret.CallbackSigningKey => CallbackSigningKeyName,
        _ => throw new ArgumentOutOfRangeException(nameof(secret), secret, "Unknown secret."),
    };
}

/// <summary>
/// Checks <see cref="SecretsOptions"/> at start-up. Every message names the setting at fault, never a value.
/// Without a vault it also checks the local settings that hold the secrets themselves.
/// </summary>
internal sealed partial class SecretsOptionsValidator(IConfiguration configuration) : IValidateOptions<SecretsOptions>
{
    private static readonly TimeSpan MaxCacheDuration = TimeSpan.FromDays(1);

    // Key Vault secret names: 1-127 letters, digits and dashes.
    [GeneratedRegex("^[0-9A-Za-z-]{1,127}$")]
    private static partial Regex SecretNamePattern();

    public ValidateOptionsResult Validate(string? name, SecretsOptions options)
    {
        var failures = new List<string>();

        if (options.CacheDuration <= TimeSpan.Zero || options.CacheDuration > MaxCacheDuration)
        {
            failures.Add($"{SectionName}:CacheDuration must be more than 00:00:00 and at most 1.00:00:00 (for example 00:05:00).");
        }

        if (options.UsesKeyVault)
        {
            if (!Uri.TryCreate(options.VaultUri, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
            {
                failures.Add($"{SectionName}:VaultUri must be an absolute https URI such as https://my-vault.vault.azure.net/.");
            }

            CheckName(failures, "SmsPartnerApiKeyName", options.SmsPartnerApiKeyName);
            CheckName(failures, "CallbackSigningKeyName", options.CallbackSigningKeyName);

            var clientId = configuration[TagStatusCredential.ManagedIdentityClientIdSetting];
            if (!string.IsNullOrWhiteSpace(clientId) && !Guid.TryParse(clientId, out _))
            {
                failures.Add($"{TagStatusCredential.ManagedIdentityClientIdSetting} must be the client id (a GUID) of the user-assigned managed identity, or empty.");
            }
        }
        else
        {
            CheckLocal(failures, ConfigurationSecretSource.SmsPartnerApiKeySetting);
            CheckLocal(failures, ConfigurationSecretSource.CallbackSigningKeySetting);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private const string SectionName = SecretsOptions.SectionName;

    private static void CheckName(List<string> failures, string property, string? value)
    {
        if (string.IsNullOrEmpty(value) || !SecretNamePattern().IsMatch(value))
        {
            failures.Add($"{SectionName}:{property} must be a Key Vault secret name (1 to 127 letters, digits and dashes).");
        }
    }

    private void CheckLocal(List<string> failures, string setting)
    {
        if (string.IsNullOrWhiteSpace(configuration[setting]))
        {
            failures.Add(
                $"{setting} is not set. Without {SectionName}:VaultUri the secrets come from configuration: " +
                $"set {setting.Replace(":", "__", StringComparison.Ordinal)} in local.settings.json, or set {SectionName}:VaultUri to read them from Key Vault.");
        }
    }
}
