namespace TagStatus.Core.Secrets;

/// <summary>
/// A secret could not be had: the vault could not be read and no cached value is left, or a local setting is missing.
/// The message names the secret and where it was looked for, never its value. Callers log it and go on.
/// </summary>
public sealed class SecretUnavailableException : Exception
{
    public SecretUnavailableException(AppSecret secret, string secretName, string origin, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Secret = secret;
        SecretName = secretName;
        Origin = origin;
    }

    /// <summary>Which of the app's secrets.</summary>
    public AppSecret Secret { get; }

    /// <summary>The Key Vault secret name, or the configuration key for a local run.</summary>
    public string SecretName { get; }

    /// <summary>The vault host, or <c>configuration</c>.</summary>
    public string Origin { get; }
}
