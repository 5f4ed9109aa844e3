namespace TagStatus.InfraTests;

/// <summary>Whole-template checks: no key-based access to anything, anywhere.</summary>
public class TemplateTextTests
{
    private static string Text => CompiledTemplate.Instance.Text;

    [Theory]
    [InlineData("listKeys")]
    [InlineData("listAccountSas")]
    [InlineData("listServiceSas")]
    [InlineData("listConnectionStrings")]
    [InlineData("AccountKey")]
    [InlineData("SharedAccessSignature")]
    [InlineData("DefaultEndpointsProtocol")]
    [InlineData("InstrumentationKey=")]
    [InlineData("@Microsoft.KeyVault(")]
    public void Template_never_uses_keys_connection_strings_or_key_vault_references(string forbidden)
    {
        Assert.DoesNotContain(forbidden, Text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Template_is_the_subscription_scope_main_with_every_module_nested()
    {
        var template = CompiledTemplate.Instance;
        Assert.Contains("subscriptionDeploymentTemplate", template.Root.GetProperty("$schema").GetString(), StringComparison.Ordinal);
        var modules = template.OfType("Microsoft.Resources/deployments").Select(d => d.RawName).Order().ToArray();
        Assert.Equal(["dashboard", "functionapp", "identity", "keyvault", "monitoring", "storage"], modules);
    }

    [Fact]
    public void Template_deploys_one_resource_group_and_everything_else_inside_it()
    {
        var template = CompiledTemplate.Instance;
        var topLevel = template.Main.Template.GetProperty("resources").EnumerateArray()
            .Select(r => r.GetProperty("type").GetString())
            .ToList();
        Assert.Single(topLevel, t => t == "Microsoft.Resources/resourceGroups");
        Assert.All(topLevel, t => Assert.Contains(t, new[] { "Microsoft.Resources/resourceGroups", "Microsoft.Resources/deployments" }));
        foreach (var module in template.OfType("Microsoft.Resources/deployments"))
        {
            Assert.True(module.Element.TryGetProperty("resourceGroup", out _), $"{module} is not deployed to the resource group.");
        }
    }
}
