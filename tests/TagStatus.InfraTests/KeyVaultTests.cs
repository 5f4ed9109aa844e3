using System.Text.Json;

namespace TagStatus.InfraTests;

public class KeyVaultTests
{
    private static ArmResource Vault => CompiledTemplate.Instance.Single("Microsoft.KeyVault/vaults");

    [Fact]
    public void Vault_uses_rbac_authorisation_not_access_policies()
    {
        Assert.Equal(JsonValueKind.True, Vault.At("properties.enableRbacAuthorization").ValueKind);
        Assert.False(Vault.Properties.TryGetProperty("accessPolicies", out _), "The vault must not declare access policies.");
    }

    [Fact]
    public void Vault_has_soft_delete_and_purge_protection()
    {
        Assert.Equal(JsonValueKind.True, Vault.At("properties.enableSoftDelete").ValueKind);
        Assert.Equal(JsonValueKind.True, Vault.At("properties.enablePurgeProtection").ValueKind);
        var retention = Vault.Scope.Parameter("softDeleteRetentionInDays");
        Assert.Equal(90, retention.GetProperty("defaultValue").GetInt32());
        Assert.Equal(7, retention.GetProperty("minValue").GetInt32());
    }

    [Fact]
    public void Vault_is_not_open_to_vm_deployment_disk_encryption_or_template_deployment()
    {
        Assert.Equal(JsonValueKind.False, Vault.At("properties.enabledForDeployment").ValueKind);
        Assert.Equal(JsonValueKind.False, Vault.At("properties.enabledForDiskEncryption").ValueKind);
        Assert.Equal(JsonValueKind.False, Vault.At("properties.enabledForTemplateDeployment").ValueKind);
    }

    [Theory]
    [InlineData("smsPartnerApiKey", "smsPartnerApiKeySecretName", "smspartner-api-key")]
    [InlineData("callbackSigningKey", "callbackSigningKeySecretName", "callback-signing-key")]
    public void Secret_value_comes_only_from_a_secure_parameter_and_is_created_only_when_given(
        string valueParameter, string nameParameter, string secretName)
    {
        var secrets = CompiledTemplate.Instance.OfType("Microsoft.KeyVault/vaults/secrets").ToList();
        var secret = Assert.Single(secrets, s => s.At("properties.value").GetString() == $"[parameters('{valueParameter}')]");

        Assert.Equal(secretName, secret.Scope.ParameterValue(nameParameter));
        Assert.Equal($"[not(empty(parameters('{valueParameter}')))]", secret.RawCondition);
        Assert.Equal("securestring", secret.Scope.Parameter(valueParameter).GetProperty("type").GetString());
        Assert.Equal(string.Empty, secret.Scope.Parameter(valueParameter).GetProperty("defaultValue").GetString());

        var main = CompiledTemplate.Instance.Main.Parameter(valueParameter);
        Assert.Equal("securestring", main.GetProperty("type").GetString());
        Assert.Equal(string.Empty, main.GetProperty("defaultValue").GetString());
    }

    [Fact]
    public void Vault_declares_exactly_the_two_secrets()
    {
        Assert.Equal(2, CompiledTemplate.Instance.OfType("Microsoft.KeyVault/vaults/secrets").Count());
    }
}
