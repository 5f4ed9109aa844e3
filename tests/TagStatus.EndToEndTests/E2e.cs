using System.Net.Http.Headers;

namespace TagStatus.EndToEndTests;

/// <summary>
/// Where the running app is. Set by scripts/start-stack.sh (through scripts/test.sh); can point at <c>func start</c> or a
/// deployed app instead. A missing setting fails the test with what to do: these tests never pass by not running.
/// </summary>
public static class E2e
{
    public const string BaseUrlVariable = "TAGSTATUS_E2E_BASEURL";
    public const string KeyVariable = "TAGSTATUS_E2E_KEY";
    public const string SimulatorVariable = "TAGSTATUS_E2E_SIMULATOR";
    public const string SigningKeyVariable = "TAGSTATUS_E2E_SIGNING_KEY";
    public const string HostVariable = "TAGSTATUS_E2E_HOST";
    public const string MasterKeyVariable = "TAGSTATUS_E2E_MASTER_KEY";
    public const string HostLogVariable = "TAGSTATUS_E2E_HOST_LOG";
    public const string SmsPartnerKeyVariable = "TAGSTATUS_E2E_SMSPARTNER_KEY";

    /// <summary>
    /// Which host serves the app: <c>localhost</c> (src/TagStatus.LocalHost, the default), <c>functions-host</c> (the real
    /// Azure Functions host through FUNCTIONS_HOST_RUNNER) or <c>func</c> (Core Tools' <c>func start</c>).
    /// </summary>
    public static AppHost Host => (Environment.GetEnvironmentVariable(HostVariable) ?? "localhost") switch
    {
        "localhost" => AppHost.LocalHost,
        "functions-host" => AppHost.FunctionsHost,
        "func" => AppHost.CoreTools,
        var other => throw new InvalidOperationException($"{HostVariable}='{other}' is none of localhost, functions-host, func."),
    };

    /// <summary>The real Azure Functions runtime, under FUNCTIONS_HOST_RUNNER or <c>func start</c>.</summary>
    public static bool IsFunctionsRuntime => Host is AppHost.FunctionsHost or AppHost.CoreTools;

    /// <summary><c>func start</c> checks no function keys; the LocalHost and the real host check them as Azure does.</summary>
    public static bool ChecksKeys => Host is not AppHost.CoreTools;

    public static string MasterKey => Environment.GetEnvironmentVariable(MasterKeyVariable) ?? string.Empty;

    /// <summary>The host's log file, or null when the stack was started elsewhere.</summary>
    public static string? HostLog => Environment.GetEnvironmentVariable(HostLogVariable) is { Length: > 0 } path ? path : null;

    /// <summary>The SMS Partner API key the app reads the simulator with: a secret, for the log scan.</summary>
    public static string SmsPartnerKey => Environment.GetEnvironmentVariable(SmsPartnerKeyVariable) ?? string.Empty;

    /// <summary>
    /// Runs <c>RefreshPendingTags</c> now on the Functions runtime, through its admin API with the master key: there the
    /// stack's schedule never fires during a run, so every refresh a test sees is one it asked for. The LocalHost has no
    /// admin API and refreshes on its own every 2 s, so there this does nothing.
    /// </summary>
    public static async Task RunTimerAsync()
    {
        if (!IsFunctionsRuntime)
        {
            return;
        }

        using var admin = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
        if (MasterKey.Length > 0)
        {
            admin.DefaultRequestHeaders.Add("x-functions-key", MasterKey);
        }

        using var response = await admin.PostAsync("admin/functions/RefreshPendingTags", Json.Body("{}"));
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted,
            $"POST /admin/functions/RefreshPendingTags answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    public static Uri BaseUrl => Required(BaseUrlVariable,
        $"{BaseUrlVariable} is not set. These tests drive a running Tag Status over HTTP: run scripts/test.sh, which starts " +
        $"the simulator and the LocalHost and sets it, or set {BaseUrlVariable} and {KeyVariable} to a running app.");

    /// <summary>The function key; empty when the app checks none (func start does not, locally).</summary>
    public static string Key => Environment.GetEnvironmentVariable(KeyVariable) ?? string.Empty;

    /// <summary>The SMS Partner simulator's root URL. A deployed app reads the real SMS Partner, which tests cannot seed.</summary>
    public static Uri Simulator => Required(SimulatorVariable,
        $"{SimulatorVariable} is not set. This test seeds and drives the SMS Partner simulator through its /_admin API, so it " +
        "runs only against a stack whose app reads the simulator (scripts/test.sh, scripts/start-stack.sh), never against a " +
        "deployed app that reads the real SMS Partner.");

    public static string SigningKey =>
        Environment.GetEnvironmentVariable(SigningKeyVariable) is { Length: > 0 } key
            ? key
            : throw new InvalidOperationException($"{SigningKeyVariable} is not set: it must be the app's Callbacks:SigningKey, to check the callback signature. Run scripts/test.sh.");

    /// <summary>A client for the app, sending the key in <c>x-functions-key</c> unless <paramref name="withKey"/> is false.</summary>
    public static HttpClient App(bool withKey = true)
    {
        var client = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        if (withKey && Key.Length > 0)
        {
            client.DefaultRequestHeaders.Add("x-functions-key", Key);
        }

        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }

    /// <summary>A fresh tag for one test: SMS Partner rules (lowercase, no spaces, at most 20 characters).</summary>
    public static string NewTag(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(20, prefix.Length + 13)];

    private static Uri Required(string variable, string message)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidOperationException(message);
        }

        return new Uri(value.TrimEnd('/') + "/");
    }
}
