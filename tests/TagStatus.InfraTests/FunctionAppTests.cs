using System.Text.Json;

namespace TagStatus.InfraTests;

public class FunctionAppTests
{
    private static ArmResource Site => CompiledTemplate.Instance.Single("Microsoft.Web/sites");

    private static ArmResource Plan => CompiledTemplate.Instance.Single("Microsoft.Web/serverfarms");

    [Fact]
    public void Plan_is_flex_consumption_fc1_on_linux()
    {
        Assert.Equal("FC1", Plan.String("sku.name"));
        Assert.Equal("FlexConsumption", Plan.String("sku.tier"));
        Assert.Equal(JsonValueKind.True, Plan.At("properties.reserved").ValueKind);
    }

    [Fact]
    public void Site_is_a_linux_function_app_on_that_plan()
    {
        Assert.Equal("functionapp,linux", Site.String("kind"));
        Assert.Contains("Microsoft.Web/serverfarms", Site.String("properties.serverFarmId"), StringComparison.Ordinal);
    }

    [Fact]
    public void Site_runs_dotnet_isolated_10()
    {
        Assert.Equal("dotnet-isolated", Site.String("properties.functionAppConfig.runtime.name"));
        Assert.Equal("10.0", Site.String("properties.functionAppConfig.runtime.version"));
    }

    [Fact]
    public void Site_is_https_only_with_tls_1_2_and_no_ftp()
    {
        Assert.Equal(JsonValueKind.True, Site.At("properties.httpsOnly").ValueKind);
        Assert.Equal("1.2", Site.String("properties.siteConfig.minTlsVersion"));
        Assert.Equal("1.2", Site.String("properties.siteConfig.scmMinTlsVersion"));
        Assert.Equal("Disabled", Site.String("properties.siteConfig.ftpsState"));
    }

    [Theory]
    [InlineData("ftp")]
    [InlineData("scm")]
    public void Basic_publishing_credentials_are_disabled(string policy)
    {
        var policies = CompiledTemplate.Instance.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies");
        var match = Assert.Single(policies, p => p.RawName.EndsWith($"'{policy}')]", StringComparison.Ordinal));
        Assert.Equal(JsonValueKind.False, match.At("properties.allow").ValueKind);
    }

    [Fact]
    public void Site_uses_only_the_user_assigned_identity()
    {
        Assert.Equal("UserAssigned", Site.String("identity.type"));
        var identities = Site.At("identity.userAssignedIdentities").EnumerateObject().ToList();
        var identity = Assert.Single(identities);
        Assert.Contains("Microsoft.ManagedIdentity/userAssignedIdentities", Site.Evaluate(identity.Name), StringComparison.Ordinal);
    }

    [Fact]
    public void Deployment_storage_is_a_blob_container_reached_with_the_user_assigned_identity()
    {
        Assert.Equal("blobContainer", Site.String("properties.functionAppConfig.deployment.storage.type"));
        Assert.Equal("UserAssignedIdentity", Site.String("properties.functionAppConfig.deployment.storage.authentication.type"));
        Assert.Contains(
            "Microsoft.ManagedIdentity/userAssignedIdentities",
            Site.String("properties.functionAppConfig.deployment.storage.authentication.userAssignedIdentityResourceId"),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Scale_settings_are_within_flex_consumption_limits()
    {
        var main = CompiledTemplate.Instance.Main;
        var memory = main.Parameter("instanceMemoryMB");
        Assert.Equal([2048, 4096], memory.GetProperty("allowedValues").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(2048, memory.GetProperty("defaultValue").GetInt32());
        var maximum = main.Parameter("maximumInstanceCount");
        Assert.InRange(maximum.GetProperty("defaultValue").GetInt32(), 40, 1000);
        Assert.Contains("parameters('maximumInstanceCount')", Site.String("properties.functionAppConfig.scaleAndConcurrency.maximumInstanceCount"), StringComparison.Ordinal);
    }

    [Fact]
    public void Site_is_tagged_for_azd_as_the_api_service()
    {
        var tags = Site.String("tags");
        Assert.Contains("createObject('azd-service-name', 'api')", tags, StringComparison.Ordinal);
    }
}
