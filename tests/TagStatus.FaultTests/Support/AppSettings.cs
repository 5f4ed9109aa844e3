using SmsPartner.Simulator;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.FaultTests.Support;

/// <summary>The app settings (environment names) of an app process over the given storage and simulator, with its own tables and queues.</summary>
public static class AppSettings
{
    public static Dictionary<string, string> For(KillableAzurite azurite, RunningSimulator simulator, string apiKey, string signingKey, string functionKey)
    {
        var prefix = AzuriteFixture.UniquePrefix();
        return new Dictionary<string, string>
        {
            ["TagStorage__ConnectionString"] = azurite.ConnectionString,
            ["TagStorage__TablePrefix"] = prefix,
            ["RefreshQueueName"] = prefix + "-refresh",
            ["CallbacksQueueName"] = prefix + "-callbacks",
            ["SmsPartner__BaseUrl"] = simulator.BaseUri.AbsoluteUri,
            ["SmsPartner__ApiKey"] = apiKey,
            ["Secrets__VaultUri"] = "",
            ["Callbacks__SigningKey"] = signingKey,
            ["LocalHost__FunctionKey"] = functionKey,
        };
    }
}
