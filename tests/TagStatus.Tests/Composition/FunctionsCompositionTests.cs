using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TagStatus.Api;
using TagStatus.Core.Secrets;
using TagStatus.Core.Storage;

namespace TagStatus.Tests.Composition;

/// <summary>
/// The Functions app's services as <c>Program.cs</c> composes them: every function class can be built from them,
/// and a missing setting stops the start with a message that names it, never a value.
/// </summary>
public sealed class FunctionsCompositionTests
{
    private static readonly Type[] FunctionClasses = typeof(TagStatus.Functions.TagLookupFunction).Assembly.GetTypes()
        .Where(t => t.GetMethods().Any(m => m.GetCustomAttribute<FunctionAttribute>() is not null))
        .ToArray();

    private static ServiceProvider Compose(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddTagStatusApi(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    private static Dictionary<string, string?> LocalSettings() => new()
    {
        ["TagStorage:ConnectionString"] = "UseDevelopmentStorage=true",
        ["SmsPartner:ApiKey"] = "local-key-do-not-log",
        ["Callbacks:SigningKey"] = "local-signing-key",
    };

    [Fact]
    public void Every_function_class_is_built_from_the_registered_services()
    {
        using var provider = Compose(LocalSettings());

        Assert.Equal(20, FunctionClasses.Length);
        foreach (var type in FunctionClasses)
        {
            Assert.NotNull(ActivatorUtilities.CreateInstance(provider, type));
        }
    }

    [Fact]
    public void Local_settings_read_secrets_from_configuration()
    {
        using var provider = Compose(LocalSettings());

        Assert.IsType<ConfigurationSecretSource>(provider.GetRequiredService<ISecretSource>());
    }

    [Fact]
    public void A_vault_uri_reads_secrets_from_key_vault()
    {
        var settings = LocalSettings();
        settings["Secrets:VaultUri"] = "https://tagstatus-kv.vault.azure.net/";
        settings["Azure:ManagedIdentityClientId"] = "00000000-0000-0000-0000-000000000001";
        using var provider = Compose(settings);

        Assert.IsType<KeyVaultSecretSource>(provider.GetRequiredService<ISecretSource>());
    }

    [Fact]
    public void Missing_storage_settings_are_named_at_start()
    {
        var settings = LocalSettings();
        settings.Remove("TagStorage:ConnectionString");
        using var provider = Compose(settings);

        var failure = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<TagStoreOptions>>().Value);
        Assert.Contains("TagStorage:ConnectionString", failure.Message, StringComparison.Ordinal);
        Assert.Contains("TagStorage:TableServiceUri", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_table_service_uri_uses_the_identity_and_no_key()
    {
        var settings = LocalSettings();
        settings.Remove("TagStorage:ConnectionString");
        settings["TagStorage:TableServiceUri"] = "https://tagstatusst.table.core.windows.net/";
        settings["TagStorage:QueueServiceUri"] = "https://tagstatusst.queue.core.windows.net/";
        settings["Azure:ManagedIdentityClientId"] = "00000000-0000-0000-0000-000000000001";
        using var provider = Compose(settings);

        var service = provider.GetRequiredService<Azure.Data.Tables.TableServiceClient>();
        Assert.Equal("tagstatusst", service.AccountName);
        Assert.Equal("tagstatusst", provider.GetRequiredService<Azure.Storage.Queues.QueueServiceClient>().AccountName);
        Assert.NotNull(provider.GetRequiredService<ITagStore>());
        Assert.Equal("tagstatus-refresh", provider.GetRequiredService<IOptions<TagStatus.Core.Queues.WorkQueueOptions>>().Value.RefreshQueue);
    }

    [Fact]
    public void A_table_service_uri_without_a_queue_service_uri_is_named_at_start()
    {
        var settings = LocalSettings();
        settings.Remove("TagStorage:ConnectionString");
        settings["TagStorage:TableServiceUri"] = "https://tagstatusst.table.core.windows.net/";
        using var provider = Compose(settings);

        var failure = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<TagStatus.Core.Queues.WorkQueueOptions>>().Value);
        Assert.Contains("TagStorage:QueueServiceUri", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("RefreshQueueName", "Refresh_Queue")]
    [InlineData("CallbacksQueueName", "ab")]
    [InlineData("RefreshQueueName", "-refresh")]
    public void A_queue_name_azure_would_refuse_is_named_at_start(string setting, string value)
    {
        var settings = LocalSettings();
        settings[setting] = value;
        using var provider = Compose(settings);

        var failure = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<TagStatus.Core.Queues.WorkQueueOptions>>().Value);
        Assert.Contains(setting, failure.Message, StringComparison.Ordinal);
        Assert.Contains(value, failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1tenant")]
    [InlineData("tenant-1")]
    [InlineData("tenant_1")]
    [InlineData("abcdefghijklmnopqrstu")]
    public void A_table_prefix_azure_would_refuse_is_named_at_start(string prefix)
    {
        var settings = LocalSettings();
        settings["TagStorage:TablePrefix"] = prefix;
        using var provider = Compose(settings);

        var failure = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<TagStoreOptions>>().Value);
        Assert.Contains("TagStorage:TablePrefix", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("t")]
    [InlineData("Tenant42")]
    [InlineData("abcdefghijklmnopqrst")]
    public void A_table_prefix_azure_accepts_passes(string prefix)
    {
        var settings = LocalSettings();
        settings["TagStorage:TablePrefix"] = prefix;
        using var provider = Compose(settings);

        Assert.Equal(prefix, provider.GetRequiredService<IOptions<TagStoreOptions>>().Value.TablePrefix);
    }

    [Theory]
    [InlineData(true, null, true)]
    [InlineData(false, null, false)]
    [InlineData(true, "false", false)]
    [InlineData(false, "true", true)]
    public void Tables_and_queues_are_created_against_azurite_and_left_to_the_bicep_in_azure(bool connectionString, string? createIfMissing, bool creates)
    {
        var settings = LocalSettings();
        if (!connectionString)
        {
            settings.Remove("TagStorage:ConnectionString");
            settings["TagStorage:TableServiceUri"] = "https://tagstatusst.table.core.windows.net/";
            settings["TagStorage:QueueServiceUri"] = "https://tagstatusst.queue.core.windows.net/";
        }

        settings["TagStorage:CreateIfMissing"] = createIfMissing;
        using var provider = Compose(settings);

        Assert.Equal(creates, provider.GetRequiredService<IOptions<TagStoreOptions>>().Value.CreatesTablesAndQueues);
    }
}
