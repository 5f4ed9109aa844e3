using System.Net.Http.Json;
using System.Text.Json;

namespace SmsPartner.Simulator.Tests;

/// <summary>One simulator per test (xUnit creates the class per test), on a free loopback port, with a real HttpClient.</summary>
public abstract class SimulatorTestBase : IAsyncLifetime
{
    private readonly SimulatorOptions? _options;

    protected SimulatorTestBase(SimulatorOptions? options = null) => _options = options;

    protected RunningSimulator Sim { get; private set; } = null!;

    protected HttpClient Http { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        Sim = await SimulatorApp.StartAsync(_options);
        Http = new HttpClient { BaseAddress = Sim.RootUri, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Sim.DisposeAsync();
    }

    protected static string StatusPath(string? tag, string? apiKey = "sim-key", int? page = null)
    {
        var parts = new List<string>();
        if (apiKey is not null)
        {
            parts.Add("apiKey=" + Uri.EscapeDataString(apiKey));
        }

        if (tag is not null)
        {
            parts.Add("tag=" + Uri.EscapeDataString(tag));
        }

        if (page is not null)
        {
            parts.Add("page=" + page);
        }

        return "v1/bulk-status-by-tag?" + string.Join('&', parts);
    }

    protected async Task<(HttpResponseMessage Response, JsonElement Body)> GetStatusAsync(string? tag, string? apiKey = "sim-key", int? page = null)
    {
        var response = await Http.GetAsync(StatusPath(tag, apiKey, page));
        var text = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(text);
        return (response, doc.RootElement.Clone());
    }

    protected async Task AdminAsync(HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, "_admin/" + path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await Http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{method} /_admin/{path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    protected Task SeedAsync(string tag, params object[] recipients) =>
        AdminAsync(HttpMethod.Put, "tags/" + tag, new { recipients });

    protected static object Row(string phone, string status = "Delivered", bool stopSms = false, int? settleAfterSeconds = null, string? finalStatus = null) =>
        new { phoneNumber = phone, status, stopSms, settleAfterSeconds, finalStatus };

    protected static List<string> Phones(JsonElement body) =>
        body.GetProperty("StatutResponse_List").EnumerateArray().Select(r => r.GetProperty("phoneNumber").GetString()!).ToList();

    protected static List<string> Statuses(JsonElement body) =>
        body.GetProperty("StatutResponse_List").EnumerateArray().Select(r => r.GetProperty("status").GetString()!).ToList();
}
