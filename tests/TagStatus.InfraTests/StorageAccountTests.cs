using System.Text.Json;

namespace TagStatus.InfraTests;

public class StorageAccountTests
{
    private static ArmResource Account => CompiledTemplate.Instance.Single("Microsoft.Storage/storageAccounts");

    [Fact]
    public void Storage_account_disables_shared_key_access()
    {
        Assert.Equal(JsonValueKind.False, Account.At("properties.allowSharedKeyAccess").ValueKind);
    }

    [Fact]
    public void Storage_account_disables_public_blob_access()
    {
        Assert.Equal(JsonValueKind.False, Account.At("properties.allowBlobPublicAccess").ValueKind);
    }

    [Fact]
    public void Storage_account_requires_tls_1_2_and_https()
    {
        Assert.Equal("TLS1_2", Account.String("properties.minimumTlsVersion"));
        Assert.Equal(JsonValueKind.True, Account.At("properties.supportsHttpsTrafficOnly").ValueKind);
    }

    [Fact]
    public void Storage_account_defaults_to_entra_authorisation_and_no_cross_tenant_replication()
    {
        Assert.Equal(JsonValueKind.True, Account.At("properties.defaultToOAuthAuthentication").ValueKind);
        Assert.Equal(JsonValueKind.False, Account.At("properties.allowCrossTenantReplication").ValueKind);
    }

    [Fact]
    public void Deployment_container_exists_and_is_private()
    {
        var container = CompiledTemplate.Instance.Single("Microsoft.Storage/storageAccounts/blobServices/containers");
        Assert.Equal("None", container.String("properties.publicAccess"));
        Assert.Contains("'app-package-", container.Scope.ParameterValue("deploymentContainerName"), StringComparison.Ordinal);
    }

    [Fact]
    public void Function_app_deploys_from_that_container_through_the_identity()
    {
        var storageModule = CompiledTemplate.Instance.Module("storage");
        var containerUrl = storageModule.Template.GetProperty("outputs").GetProperty("deploymentContainerUrl").GetProperty("value").GetString()!;
        Assert.Contains("primaryEndpoints.blob", containerUrl, StringComparison.Ordinal);
        Assert.Contains("parameters('deploymentContainerName')", containerUrl, StringComparison.Ordinal);

        var site = CompiledTemplate.Instance.Single("Microsoft.Web/sites");
        Assert.Contains("outputs.deploymentContainerUrl", site.String("properties.functionAppConfig.deployment.storage.value"), StringComparison.Ordinal);
    }
}
