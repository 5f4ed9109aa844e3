using System.Text.Json;

namespace TagStatus.InfraTests;

/// <summary>
/// The app settings: every setting of docs/settings.md the app needs in Azure, identity-based
/// host storage, and no secret value in any of them.
/// </summary>
public class AppSettingsTests
{
    private static readonly string[] Required =
    [
        "AzureWebJobsStorage__credential",
        "AzureWebJobsStorage__clientId",
        "AzureWebJobsStorage__blobServiceUri",
        "AzureWebJobsStorage__queueServiceUri",
        "AzureWebJobsStorage__tableServiceUri",
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        "Azure__ManagedIdentityClientId",
        "Secrets__VaultUri",
        "Secrets__SmsPartnerApiKeyName",
        "Secrets__CallbackSigningKeyName",
        "Secrets__CacheDuration",
        "TagStorage__TableServiceUri",
        "TagStorage__TablePrefix",
        "TagStorage__QueueServiceUri",
        "TagStorage__CreateIfMissing",
        "RefreshQueueName",
        "CallbacksQueueName",
        "SmsPartner__BaseUrl",
        "SmsPartner__AttemptTimeout",
        "SmsPartner__TotalTimeout",
        "SmsPartner__RequestsPerSecond",
        "SmsPartner__BudgetBatchSize",
        "SmsPartner__MaxPages",
        "RefreshSchedule",
        "Lookup__DefaultMaxAge",
        "Lookup__MaxInlinePages",
        "Lookup__RefreshClaimSeconds",
        "Lookup__WaitForRefreshSeconds",
        "Retention__Months",
        "Retention__SummaryMonths",
        "Tracking__Window",
        "Tracking__Margin",
        "Tracking__PagesPerRun",
        "Tracking__RefreshLease",
        "Tracking__SweepEvery",
        "Tracking__RecheckEvery",
        "Tracking__RecheckFor",
        "Callbacks__AllowInsecureUrls",
        "Callbacks__MaxAnyTagSubscriptions",
        "Callbacks__SecretRotationOverlap",
        "Callbacks__DeadLetterDays",
        "Api__TrustForwardedHeaders",
    ];

    public static TheoryData<string> RequiredSettings => new(Required);

    /// <summary>Local-only settings (secrets or keys in configuration) and ones Flex Consumption rejects.</summary>
    public static TheoryData<string> ForbiddenSettings => new()
    {
        "SmsPartner__ApiKey",
        "Callbacks__SigningKey",
        "TagStorage__ConnectionString",
        "AzureWebJobsStorage",
        "AzureWebJobsStorage__accountName",
        "WEBSITE_RUN_FROM_PACKAGE",
        "FUNCTIONS_WORKER_RUNTIME",
        "FUNCTIONS_EXTENSION_VERSION",
        "APPINSIGHTS_INSTRUMENTATIONKEY",
    };

    private static ArmResource Config
    {
        get
        {
            var configs = CompiledTemplate.Instance.OfType("Microsoft.Web/sites/config").ToList();
            return Assert.Single(configs, c => c.RawName.EndsWith("'appsettings')]", StringComparison.Ordinal));
        }
    }

    private static Dictionary<string, string> Settings =>
        Config.Properties.EnumerateObject().ToDictionary(p => p.Name, p => Config.Evaluate(p.Value.GetString()!));

    [Theory]
    [MemberData(nameof(RequiredSettings))]
    public void Setting_is_present(string name)
    {
        Assert.Contains(name, Settings.Keys);
    }

    [Theory]
    [MemberData(nameof(ForbiddenSettings))]
    public void Setting_is_absent(string name)
    {
        Assert.DoesNotContain(name, Settings.Keys);
    }

    [Fact]
    public void Only_the_expected_settings_are_set()
    {
        Assert.Equal(Required.Order(), Settings.Keys.Order());
    }

    [Fact]
    public void All_values_are_strings_and_none_holds_a_secret()
    {
        Assert.All(Config.Properties.EnumerateObject(), p => Assert.Equal(JsonValueKind.String, p.Value.ValueKind));
        foreach (var (name, value) in Settings)
        {
            Assert.DoesNotContain("smsPartnerApiKey')", value, StringComparison.Ordinal);
            Assert.DoesNotContain("callbackSigningKey')", value, StringComparison.Ordinal);
            Assert.DoesNotContain("securestring", value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("listKeys", value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("AccountKey", value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("@Microsoft.KeyVault", value, StringComparison.OrdinalIgnoreCase);
            Assert.False(name.Contains("Password", StringComparison.OrdinalIgnoreCase), name);
        }
    }

    [Fact]
    public void Host_storage_uses_the_managed_identity_and_the_account_endpoints()
    {
        var settings = Settings;
        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.Equal(ClientIdExpression(), settings["AzureWebJobsStorage__clientId"]);
        Assert.Contains("outputs.blobEndpoint", settings["AzureWebJobsStorage__blobServiceUri"], StringComparison.Ordinal);
        Assert.Contains("outputs.queueEndpoint", settings["AzureWebJobsStorage__queueServiceUri"], StringComparison.Ordinal);
        Assert.Contains("outputs.tableEndpoint", settings["AzureWebJobsStorage__tableServiceUri"], StringComparison.Ordinal);

        var storageOutputs = CompiledTemplate.Instance.Module("storage").Template.GetProperty("outputs");
        Assert.Contains("primaryEndpoints.blob", storageOutputs.GetProperty("blobEndpoint").GetProperty("value").GetString(), StringComparison.Ordinal);
        Assert.Contains("primaryEndpoints.queue", storageOutputs.GetProperty("queueEndpoint").GetProperty("value").GetString(), StringComparison.Ordinal);
        Assert.Contains("primaryEndpoints.table", storageOutputs.GetProperty("tableEndpoint").GetProperty("value").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void App_uses_the_table_service_uri_and_the_identity_client_id()
    {
        var settings = Settings;
        Assert.Contains("outputs.tableEndpoint", settings["TagStorage__TableServiceUri"], StringComparison.Ordinal);
        Assert.Equal(ClientIdExpression(), settings["Azure__ManagedIdentityClientId"]);
    }

    [Fact]
    public void Secrets_are_named_and_located_not_given()
    {
        var settings = Settings;
        Assert.Contains("'keyvault'", settings["Secrets__VaultUri"], StringComparison.Ordinal);
        Assert.Contains("outputs.uri", settings["Secrets__VaultUri"], StringComparison.Ordinal);
        Assert.EndsWith(".vaultUri]", CompiledTemplate.Instance.Module("keyvault").Template.GetProperty("outputs").GetProperty("uri").GetProperty("value").GetString(), StringComparison.Ordinal);
        Assert.Equal("smspartner-api-key", settings["Secrets__SmsPartnerApiKeyName"]);
        Assert.Equal("callback-signing-key", settings["Secrets__CallbackSigningKeyName"]);
    }

    [Fact]
    public void Application_insights_uses_entra_authentication_with_the_identity()
    {
        var settings = Settings;
        Assert.Contains("Microsoft.Insights/components", settings["APPLICATIONINSIGHTS_CONNECTION_STRING"], StringComparison.Ordinal);
        Assert.EndsWith(".ConnectionString]", settings["APPLICATIONINSIGHTS_CONNECTION_STRING"], StringComparison.Ordinal);
        Assert.Equal(
            $"[format('Authorization=AAD;ClientId={{0}}', {ClientIdExpression()[1..^1]})]",
            settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
    }

    [Fact]
    public void Behaviour_settings_have_the_documented_defaults()
    {
        var settings = Settings;
        Assert.Equal("https://api.smspartner.fr/v1/", DefaultOf("smsPartnerBaseUrl"));
        Assert.Equal("0 */1 * * * *", DefaultOf("refreshSchedule"));
        Assert.Equal("[parameters('smsPartnerBaseUrl')]", settings["SmsPartner__BaseUrl"]);
        Assert.Equal("[parameters('refreshSchedule')]", settings["RefreshSchedule"]);
        Assert.Equal("false", settings["Callbacks__AllowInsecureUrls"]);
        Assert.Equal("00:05:00", settings["Secrets__CacheDuration"]);
        Assert.Equal("60", settings["Lookup__DefaultMaxAge"]);
        Assert.Equal("2.00:00:00", settings["Tracking__Window"]);
        Assert.Equal("06:00:00", settings["Tracking__Margin"]);
        Assert.Equal("240", settings["Tracking__PagesPerRun"]);
        Assert.Equal("00:10:00", settings["Tracking__RefreshLease"]);
        Assert.Equal("tagstatus-refresh", DefaultOf("refreshQueueName"));
        Assert.Equal("tagstatus-callbacks", DefaultOf("callbacksQueueName"));
    }

    private static string DefaultOf(string parameter) =>
        CompiledTemplate.Instance.Main.Parameter(parameter).GetProperty("defaultValue").GetString()!;

    private static string ClientIdExpression() =>
        Config.Evaluate("[reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', parameters('identityName')), '2024-11-30').clientId]");
}
