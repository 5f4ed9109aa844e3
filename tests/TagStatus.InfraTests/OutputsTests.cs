namespace TagStatus.InfraTests;

/// <summary>What azd reads back after provisioning, and what the parameters file carries.</summary>
public class OutputsTests
{
    [Theory]
    [InlineData("AZURE_LOCATION")]
    [InlineData("AZURE_TENANT_ID")]
    [InlineData("AZURE_RESOURCE_GROUP")]
    [InlineData("AZURE_FUNCTION_APP_NAME")]
    [InlineData("AZURE_FUNCTION_APP_URI")]
    [InlineData("AZURE_KEY_VAULT_NAME")]
    [InlineData("AZURE_KEY_VAULT_URI")]
    [InlineData("AZURE_STORAGE_ACCOUNT_NAME")]
    [InlineData("AZURE_MANAGED_IDENTITY_CLIENT_ID")]
    public void Main_template_outputs_the_value_for_azd(string name)
    {
        var outputs = CompiledTemplate.Instance.Main.Template.GetProperty("outputs");
        Assert.True(outputs.TryGetProperty(name, out var output), $"Output {name} is missing.");
        Assert.Equal("string", output.GetProperty("type").GetString());
    }

    [Fact]
    public void No_output_carries_a_secret()
    {
        var outputs = CompiledTemplate.Instance.Main.Template.GetProperty("outputs").EnumerateObject().ToList();
        Assert.NotEmpty(outputs);
        Assert.All(outputs, o =>
        {
            Assert.DoesNotContain("smsPartnerApiKey", o.Value.GetRawText(), StringComparison.Ordinal);
            Assert.DoesNotContain("callbackSigningKey", o.Value.GetRawText(), StringComparison.Ordinal);
            Assert.DoesNotContain("ConnectionString", o.Value.GetRawText(), StringComparison.Ordinal);
            Assert.NotEqual("securestring", o.Value.GetProperty("type").GetString());
        });
    }

    [Fact]
    public void Parameters_file_passes_no_secret_value()
    {
        var parameters = CompiledTemplate.Instance.ParametersText;
        Assert.True(parameters is not null, $"{CompiledTemplate.ParametersRelativePath} is missing: run scripts/check-infra.sh.");
        Assert.Contains("\"environmentName\"", parameters, StringComparison.Ordinal);
        Assert.DoesNotContain("smsPartnerApiKey", parameters, StringComparison.Ordinal);
        Assert.DoesNotContain("callbackSigningKey", parameters, StringComparison.Ordinal);
    }
}
