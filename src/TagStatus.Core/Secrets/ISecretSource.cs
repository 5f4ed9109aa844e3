namespace TagStatus.Core.Secrets;

/// <summary>The secrets the app needs. Where they come from (configuration or Key Vault) is the source's business.</summary>
public enum AppSecret
{
    SmsPartnerApiKey,
    CallbackSigningKey,
}

/// <summary>Hands out secret values, cached, and re-reads one when a caller learns it was refused.</summary>
public interface ISecretSource
{
    /// <summary>The current value, from the cache when it is still fresh.</summary>
    ValueTask<string> GetAsync(AppSecret secret, CancellationToken cancellationToken);

    /// <summary>
    /// Re-reads a secret after <paramref name="refusedValue"/> was refused (a rotated key).
    /// Concurrent callers share one read; a caller whose refused value was already replaced gets the new value at once.
    /// </summary>
    ValueTask<string> RefreshAsync(AppSecret secret, string refusedValue, CancellationToken cancellationToken);
}
