using Azure.Core;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TagStatus.Core.Secrets;

namespace TagStatus.KeyVaultTests;

/// <summary>A credential that hands out one fixed token: for tests about the cache, not about identity.</summary>
internal sealed class StaticTokenCredential(string token) : TokenCredential
{
    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        new(token, DateTimeOffset.UtcNow.AddHours(1));

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}

internal static class TestSupport
{
    public static readonly TimeSpan CacheDuration = TimeSpan.FromMinutes(5);

    /// <summary>Guards awaits on the loopback servers, so a bug fails the test instead of hanging it.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Client options for the loopback vault: trust the test certificate, accept a challenge for a non-vault host, no retry pauses.</summary>
    public static SecretClientOptions VaultClientOptions() => new()
    {
        DisableChallengeResourceVerification = true,
        Transport = TestCertificate.CreateTransport(),
        Retry = { MaxRetries = 0 },
    };

    public static KeyVaultSecretSource CreateSource(FakeKeyVault vault, FakeTimeProvider time, FakeLogger<KeyVaultSecretSource> logger, string token = "static-test-token")
    {
        var client = new SecretClient(vault.VaultUri, new StaticTokenCredential(token), VaultClientOptions());
        var options = Options.Create(new SecretsOptions { VaultUri = vault.VaultUri.ToString(), CacheDuration = CacheDuration });
        return new KeyVaultSecretSource(client, options, time, logger);
    }

    /// <summary>Fails when any secret value shows in a log record (message, state or exception) .</summary>
    public static void AssertNoSecretIn(FakeLogCollector logs, params string[] values)
    {
        var records = logs.GetSnapshot();
        Assert.NotEmpty(records);
        foreach (var record in records)
        {
            var text = string.Join(
                "\n",
                record.Message,
                string.Join(";", record.StructuredState?.Select(kv => kv.Value) ?? []),
                record.Exception?.ToString());
            foreach (var value in values)
            {
                Assert.DoesNotContain(value, text, StringComparison.Ordinal);
            }
        }
    }

    public static string NewSecretValue(string label) => $"{label}-{Guid.NewGuid():N}";
}
