using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using TagStatus.Core.Secrets;

namespace TagStatus.KeyVaultTests;

/// <summary>Local runs (no vault URI) and the start-up checks of every setting.</summary>
public sealed class ConfigurationSecretSourceTests
{
    private static IHost BuildHost(Dictionary<string, string?> settings, out FakeLogCollector logs)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.AddFakeLogging().SetMinimumLevel(LogLevel.Trace);
        builder.Services.AddTagStatusSecrets(builder.Configuration);
        var host = builder.Build();
        logs = host.Services.GetFakeLogCollector();
        return host;
    }

    [Fact]
    public async Task Without_a_vault_secrets_come_from_configuration()
    {
        var apiKey = TestSupport.NewSecretValue("local-api-key");
        var signingKey = TestSupport.NewSecretValue("local-signing-key");
        using var host = BuildHost(new() { ["SmsPartner:ApiKey"] = apiKey, ["Callbacks:SigningKey"] = signingKey }, out var logs);
        await host.StartAsync();

        var source = Assert.IsType<ConfigurationSecretSource>(host.Services.GetRequiredService<ISecretSource>());
        Assert.Equal(apiKey, await source.GetAsync(AppSecret.SmsPartnerApiKey, default));
        Assert.Equal(signingKey, await source.GetAsync(AppSecret.CallbackSigningKey, default));
        Assert.Null(host.Services.GetService<Azure.Security.KeyVault.Secrets.SecretClient>());
        TestSupport.AssertNoSecretIn(logs, apiKey, signingKey);
        await host.StopAsync();
    }

    [Fact]
    public async Task Missing_local_api_key_fails_start_naming_the_setting_and_no_value()
    {
        var signingKey = TestSupport.NewSecretValue("local-signing-key");
        using var host = BuildHost(new() { ["Callbacks:SigningKey"] = signingKey }, out _);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("SmsPartner:ApiKey", error.Message, StringComparison.Ordinal);
        Assert.Contains("SmsPartner__ApiKey", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Callbacks:SigningKey", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(signingKey, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_vault_settings_fail_start_naming_each_setting()
    {
        using var host = BuildHost(new()
        {
            ["Secrets:VaultUri"] = "http://my-vault.vault.azure.net/",
            ["Secrets:SmsPartnerApiKeyName"] = "bad name!",
            ["Secrets:CacheDuration"] = "00:00:00",
            ["Azure:ManagedIdentityClientId"] = "not-a-guid",
        }, out _);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Secrets:VaultUri", error.Message, StringComparison.Ordinal);
        Assert.Contains("Secrets:SmsPartnerApiKeyName", error.Message, StringComparison.Ordinal);
        Assert.Contains("Secrets:CacheDuration", error.Message, StringComparison.Ordinal);
        Assert.Contains("Azure:ManagedIdentityClientId", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Secrets:CallbackSigningKeyName", error.Message, StringComparison.Ordinal);
        // In Key Vault mode the local settings are not wanted.
        Assert.DoesNotContain("SmsPartner:ApiKey", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_vault_uri_selects_the_key_vault_source_with_default_names()
    {
        using var host = BuildHost(new()
        {
            ["Secrets:VaultUri"] = "https://my-vault.vault.azure.net/",
            ["Azure:ManagedIdentityClientId"] = Guid.NewGuid().ToString(),
        }, out _);
        await host.StartAsync();

        Assert.IsType<KeyVaultSecretSource>(host.Services.GetRequiredService<ISecretSource>());
        var options = host.Services.GetRequiredService<IOptions<SecretsOptions>>().Value;
        Assert.Equal(("smspartner-api-key", "callback-signing-key", TimeSpan.FromMinutes(5)),
            (options.SmsPartnerApiKeyName, options.CallbackSigningKeyName, options.CacheDuration));
        Assert.Equal(new Uri("https://my-vault.vault.azure.net/"),
            host.Services.GetRequiredService<Azure.Security.KeyVault.Secrets.SecretClient>().VaultUri);
        await host.StopAsync();
    }

    [Fact]
    public async Task Refresh_returns_the_reloaded_local_value()
    {
        var configuration = new ConfigurationManager();
        configuration["SmsPartner:ApiKey"] = "first-local-key";
        var logger = new FakeLogger<ConfigurationSecretSource>();
        var source = new ConfigurationSecretSource(configuration, logger);

        Assert.Equal("first-local-key", await source.RefreshAsync(AppSecret.SmsPartnerApiKey, "first-local-key", default));
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Id.Id == 5007 && r.Message.Contains("SmsPartner:ApiKey", StringComparison.Ordinal));

        configuration["SmsPartner:ApiKey"] = "second-local-key";
        Assert.Equal("second-local-key", await source.RefreshAsync(AppSecret.SmsPartnerApiKey, "first-local-key", default));
        TestSupport.AssertNoSecretIn(logger.Collector, "first-local-key", "second-local-key");
    }

    [Fact]
    public async Task A_local_setting_removed_after_start_fails_the_lookup_by_name()
    {
        var source = new ConfigurationSecretSource(new ConfigurationManager(), new FakeLogger<ConfigurationSecretSource>());

        var error = await Assert.ThrowsAsync<SecretUnavailableException>(
            () => source.GetAsync(AppSecret.CallbackSigningKey, default).AsTask());

        Assert.Equal("Callbacks:SigningKey", error.SecretName);
        Assert.Contains("Callbacks__SigningKey", error.Message, StringComparison.Ordinal);
    }
}
