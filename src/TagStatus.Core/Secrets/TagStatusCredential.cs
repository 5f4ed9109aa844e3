using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Configuration;

namespace TagStatus.Core.Secrets;

/// <summary>
/// The one Azure credential of the app: the user-assigned managed identity named by
/// <c>Azure:ManagedIdentityClientId</c> in Azure, else <see cref="DefaultAzureCredential"/> (the developer's own login).
/// Register it once with <see cref="SecretsServiceCollectionExtensions.AddTagStatusCredential"/> and resolve
/// <see cref="TokenCredential"/> from DI (Key Vault, Table Storage) rather than creating more.
/// </summary>
public static class TagStatusCredential
{
    public const string ManagedIdentityClientIdSetting = "Azure:ManagedIdentityClientId";

    public static TokenCredential Create(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var clientId = configuration[ManagedIdentityClientIdSetting];
        if (string.IsNullOrWhiteSpace(clientId))
        {
            return new DefaultAzureCredential();
        }

        if (!Guid.TryParse(clientId, out _))
        {
            throw new InvalidOperationException(
                $"{ManagedIdentityClientIdSetting} must be the client id (a GUID) of the user-assigned managed identity, or empty.");
        }

        return new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId.Trim()));
    }
}
