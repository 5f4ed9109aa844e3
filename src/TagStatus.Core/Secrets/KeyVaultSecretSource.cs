using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace TagStatus.Core.Secrets;

/// <summary>
/// Secrets from Azure Key Vault through the app's <see cref="SecretClient"/> (managed identity in Azure).
/// Each secret is cached for <see cref="SecretsOptions.CacheDuration"/>, so a lookup costs no vault call.
/// A refusal (<see cref="RefreshAsync"/>) re-reads the secret once, shared by every concurrent caller.
/// When the vault cannot be read, the cached value serves until its cache life ends; then
/// <see cref="GetAsync"/> throws <see cref="SecretUnavailableException"/>.
/// </summary>
public sealed class KeyVaultSecretSource : ISecretSource
{
    /// <summary>
    /// After a re-read found that the vault still holds a refused value, further refusals of that same value are
    /// answered from the cache for this long, so a key that is simply wrong does not cost a vault read per call.
    /// </summary>
    public static readonly TimeSpan RefusedValueRecheckInterval = TimeSpan.FromSeconds(30);

    private readonly SecretClient _client;
    private readonly TimeSpan _cacheDuration;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _vaultHost;
    private readonly Slot[] _slots;

    public KeyVaultSecretSource(
        SecretClient client,
        IOptions<SecretsOptions> options,
        TimeProvider timeProvider,
        ILogger<KeyVaultSecretSource> logger)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);

        var settings = options.Value;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(settings.CacheDuration, TimeSpan.Zero, "options.CacheDuration");

        _client = client;
        _cacheDuration = settings.CacheDuration;
        _time = timeProvider;
        _logger = logger;
        _vaultHost = client.VaultUri.Authority;
        _slots = Enum.GetValues<AppSecret>().Select(s => new Slot(s, settings.SecretNameOf(s))).ToArray();

        SecretsLog.UsingKeyVault(logger, _vaultHost, _cacheDuration);
    }

    public ValueTask<string> GetAsync(AppSecret secret, CancellationToken cancellationToken)
    {
        var slot = SlotOf(secret);
        var current = slot.Current;
        if (current is not null && _time.GetUtcNow() < current.ExpiresAt)
        {
            return ValueTask.FromResult(current.Value);
        }

        return new ValueTask<string>(ValueOf(ReadShared(slot, refusedValue: null), cancellationToken));
    }

    public ValueTask<string> RefreshAsync(AppSecret secret, string refusedValue, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(refusedValue);
        return new ValueTask<string>(ValueOf(ReadShared(SlotOf(secret), refusedValue), cancellationToken));
    }

    private Slot SlotOf(AppSecret secret) =>
        (uint)secret < (uint)_slots.Length
            ? _slots[(int)secret]
            : throw new ArgumentOutOfRangeException(nameof(secret), secret, "Unknown secret.");

    private static async Task<string> ValueOf(Task<Cached> read, CancellationToken cancellationToken) =>
        (await read.WaitAsync(cancellationToken).ConfigureAwait(false)).Value;

    /// <summary>
    /// The cached value when it answers the caller, else the vault read in flight, else a new read that later
    /// callers share. <paramref name="refusedValue"/> is null for a plain lookup.
    /// </summary>
    private Task<Cached> ReadShared(Slot slot, string? refusedValue)
    {
        lock (slot.Gate)
        {
            var current = slot.Current;
            var now = _time.GetUtcNow();
            if (current is not null && now < current.ExpiresAt)
            {
                if (refusedValue is null)
                {
                    return Task.FromResult(current);
                }

                if (!string.Equals(current.Value, refusedValue, StringComparison.Ordinal))
                {
                    // Someone else already replaced the refused value: no read.
                    SecretsLog.RefusedValueAlreadyReplaced(_logger, slot.Name);
                    return Task.FromResult(current);
                }

                if (current.ConfirmedRefused && now - current.ReadAt < RefusedValueRecheckInterval)
                {
                    // A re-read moments ago found this same value still in the vault.
                    return Task.FromResult(current);
                }
            }

            if (slot.Pending is { } pending)
            {
                return pending;
            }

            // Task.Run: the read never runs inline under the lock, and it can only clear Pending after this assignment.
            var read = Task.Run(() => ReadFromVaultAsync(slot, refusedValue));
            slot.Pending = read;
            return read;
        }
    }

    private async Task<Cached> ReadFromVaultAsync(Slot slot, string? refusedValue)
    {
        Cached? fresh = null;
        try
        {
            // Not the caller's token: the read is shared, one caller giving up must not fail the others.
            KeyVaultSecret secret = await _client.GetSecretAsync(slot.Name, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            if (string.IsNullOrEmpty(secret.Value))
            {
                throw new InvalidOperationException("The vault returned an empty value.");
            }

            var now = _time.GetUtcNow();
            var version = secret.Properties.Version;
            var stillRefused = refusedValue is not null && string.Equals(secret.Value, refusedValue, StringComparison.Ordinal);
            fresh = new Cached(secret.Value, version, now, now + _cacheDuration, stillRefused);

            if (refusedValue is null)
            {
                SecretsLog.SecretRead(_logger, slot.Name, version, _vaultHost);
            }
            else if (stillRefused)
            {
                SecretsLog.RefusedValueStillCurrent(_logger, slot.Name, _vaultHost, version);
            }
            else
            {
                SecretsLog.SecretRotated(_logger, slot.Name, _vaultHost, version);
            }

            return fresh;
        }
        catch (Exception exception)
        {
            SecretsLog.SecretReadFailed(_logger, exception, slot.Name, _vaultHost);
            var message = refusedValue is null
                ? $"Secret {slot.Name} could not be read from Key Vault {_vaultHost}, and no fresh cached value is left."
                : $"Secret {slot.Name} was refused and could not be re-read from Key Vault {_vaultHost}.";
            throw new SecretUnavailableException(slot.Secret, slot.Name, _vaultHost, message, exception);
        }
        finally
        {
            lock (slot.Gate)
            {
                if (fresh is not null)
                {
                    slot.Current = fresh;
                }

                slot.Pending = null;
            }
        }
    }

    /// <summary>A value read from the vault. <paramref name="ConfirmedRefused"/>: a re-read after a refusal returned the refused value.</summary>
    private sealed record Cached(string Value, string? Version, DateTimeOffset ReadAt, DateTimeOffset ExpiresAt, bool ConfirmedRefused)
    {
        // Records print their members; this one holds a secret.
        public override string ToString() => $"Cached secret version {Version}, expires {ExpiresAt:O}";
    }

    private sealed class Slot(AppSecret secret, string name)
    {
        public AppSecret Secret { get; } = secret;
        public string Name { get; } = name;
        public object Gate { get; } = new();

        /// <summary>Last good value; read without the lock on the hot path.</summary>
        public volatile Cached? Current;

        /// <summary>The vault read in flight, if any. Guarded by <see cref="Gate"/>.</summary>
        public Task<Cached>? Pending;
    }
}
