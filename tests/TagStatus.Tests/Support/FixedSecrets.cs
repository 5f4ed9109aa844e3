using TagStatus.Core.Secrets;

namespace TagStatus.Tests.Support;

/// <summary>The app's secrets as fixed values: the seam between the callback code and the vault.</summary>
internal sealed class FixedSecrets(string signingKey = FixedSecrets.SigningKey) : ISecretSource
{
    public const string SigningKey = "callback-signing-key";

    public ValueTask<string> GetAsync(AppSecret secret, CancellationToken cancellationToken) =>
        ValueTask.FromResult(secret == AppSecret.CallbackSigningKey ? signingKey : "smspartner-api-key");

    public ValueTask<string> RefreshAsync(AppSecret secret, string refusedValue, CancellationToken cancellationToken) => GetAsync(secret, cancellationToken);
}
