using Azure.Core;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using TagStatus.Core.Secrets;
using static TagStatus.KeyVaultTests.TestSupport;

namespace TagStatus.KeyVaultTests;

/// <summary>
/// The whole Azure path as the app registers it: <see cref="SecretsServiceCollectionExtensions.AddTagStatusSecrets"/>,
/// the real <see cref="ManagedIdentityCredential"/> against the loopback identity endpoint, the real SecretClient
/// against the loopback vault. Only the transport is swapped, as a test must.
/// </summary>
[Collection(ManagedIdentityCollection.Name)]
public sealed class ManagedIdentityTests(ManagedIdentityFixture identity) : IAsyncLifetime
{
    private FakeKeyVault _vault = null!;

    public async Task InitializeAsync() => _vault = await FakeKeyVault.StartAsync();

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    private ServiceProvider BuildServices(string clientId, out FakeLogCollector logs)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Secrets:VaultUri"] = _vault.VaultUri.ToString(),
            ["Azure:ManagedIdentityClientId"] = clientId,
        }).Build();

        var services = new ServiceCollection();
        services.AddLogging(b => b.AddFakeLogging().SetMinimumLevel(LogLevel.Trace));
        services.AddTagStatusSecrets(configuration);
        services.AddAzureClients(clients => clients.ConfigureDefaults(options =>
        {
            var loopback = VaultClientOptions();
            options.Transport = loopback.Transport;
            options.Retry.MaxRetries = 0;
            if (options is SecretClientOptions secretOptions)
            {
                secretOptions.DisableChallengeResourceVerification = true;
            }
        }));
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        logs = provider.GetFakeLogCollector();
        return provider;
    }

    [Fact]
    public async Task Vault_sees_the_token_of_the_user_assigned_identity()
    {
        var clientId = Guid.NewGuid().ToString();
        var value = NewSecretValue("api-key");
        _vault.SetSecret("smspartner-api-key", value);
        await using var provider = BuildServices(clientId, out var logs);

        Assert.IsType<ManagedIdentityCredential>(provider.GetRequiredService<TokenCredential>());
        var source = Assert.IsType<KeyVaultSecretSource>(provider.GetRequiredService<ISecretSource>());
        Assert.Equal(value, await source.GetAsync(AppSecret.SmsPartnerApiKey, default));

        var tokenRequest = Assert.Single(identity.Endpoint.RequestsFor(clientId));
        Assert.Equal("https://vault.azure.net", tokenRequest.Resource);
        Assert.Equal("2019-08-01", tokenRequest.ApiVersion);
        Assert.Equal(identity.Endpoint.IdentityHeader, tokenRequest.IdentityHeader);
        Assert.StartsWith($"mi-{clientId}-", tokenRequest.IssuedToken, StringComparison.Ordinal);

        var read = Assert.Single(_vault.Requests, r => r.Status == 200);
        Assert.Equal(tokenRequest.IssuedToken, read.BearerToken);
        AssertNoSecretIn(logs, value);
    }

    [Fact]
    public async Task The_vault_token_is_reused_across_reads()
    {
        var clientId = Guid.NewGuid().ToString();
        _vault.SetSecret("smspartner-api-key", NewSecretValue("api-key"));
        _vault.SetSecret("callback-signing-key", NewSecretValue("signing-key"));
        await using var provider = BuildServices(clientId, out _);
        var source = provider.GetRequiredService<ISecretSource>();

        await source.GetAsync(AppSecret.SmsPartnerApiKey, default);
        await source.GetAsync(AppSecret.CallbackSigningKey, default);

        Assert.Single(identity.Endpoint.RequestsFor(clientId));
        Assert.Equal(2, _vault.SecretReads);
        Assert.Single(_vault.Requests.Where(r => r.Status == 200).Select(r => r.BearerToken).Distinct());
    }

    [Fact]
    public async Task An_identity_the_platform_refuses_fails_the_lookup_with_the_secret_name()
    {
        var clientId = Guid.NewGuid().ToString();
        identity.Endpoint.UnknownClientIds[clientId] = true;
        var value = NewSecretValue("api-key");
        _vault.SetSecret("smspartner-api-key", value);
        await using var provider = BuildServices(clientId, out var logs);
        var source = provider.GetRequiredService<ISecretSource>();

        var error = await Assert.ThrowsAsync<SecretUnavailableException>(
            () => source.GetAsync(AppSecret.SmsPartnerApiKey, default).AsTask());

        Assert.Contains("smspartner-api-key", error.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<AuthenticationFailedException>(error.InnerException);
        Assert.NotEmpty(identity.Endpoint.RequestsFor(clientId));
        Assert.Equal(0, _vault.SecretReads);
        AssertNoSecretIn(logs, value);
    }
}
