using Azure.Core;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace TagStatus.Core.Secrets;

public static class SecretsServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ISecretSource"/>: <see cref="KeyVaultSecretSource"/> when <c>Secrets:VaultUri</c> is set
    /// (with a <see cref="SecretClient"/> from <c>AddAzureClients</c> and the app's one <see cref="TokenCredential"/>),
    /// else <see cref="ConfigurationSecretSource"/>. <see cref="SecretsOptions"/> is validated at start, with
    /// messages that name the setting at fault.
    /// </summary>
    public static IServiceCollection AddTagStatusSecrets(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<SecretsOptions>()
            .Bind(configuration.GetSection(SecretsOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SecretsOptions>>(new SecretsOptionsValidator(configuration)));

        var vaultUri = configuration[$"{SecretsOptions.SectionName}:VaultUri"];
        if (string.IsNullOrWhiteSpace(vaultUri))
        {
            services.TryAddSingleton<ISecretSource>(sp =>
            {
                _ = sp.GetRequiredService<IOptions<SecretsOptions>>().Value; // fails with the validation messages
                return new ConfigurationSecretSource(configuration, sp.GetRequiredService<ILogger<ConfigurationSecretSource>>());
            });
            return services;
        }

        services.AddTagStatusCredential(configuration);
        if (Uri.TryCreate(vaultUri, UriKind.Absolute, out var uri))
        {
            services.AddAzureClients(clients =>
            {
                clients.AddSecretClient(uri);
                clients.UseCredential(sp => sp.GetRequiredService<TokenCredential>());
            });
        }

        services.TryAddSingleton<ISecretSource>(sp =>
        {
            // Resolving the options first makes a bad setting fail with its validation message, not a DI error.
            var options = sp.GetRequiredService<IOptions<SecretsOptions>>();
            _ = options.Value;
            return new KeyVaultSecretSource(
                sp.GetRequiredService<SecretClient>(),
                options,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<KeyVaultSecretSource>>());
        });
        return services;
    }

    /// <summary>
    /// Registers the app's one <see cref="TokenCredential"/> (see <see cref="TagStatusCredential.Create"/>) as a
    /// singleton, unless one is registered already. Other Azure clients (Table Storage) resolve it from DI.
    /// </summary>
    public static IServiceCollection AddTagStatusCredential(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(_ => TagStatusCredential.Create(configuration));
        return services;
    }
}
