using System.Net.Http.Json;

namespace TagStatus.EndToEndTests;

/// <summary>Seeds the SMS Partner simulator through its admin API (docs/simulator.md).</summary>
public static class SimulatorAdmin
{
    public static async Task SeedAsync(string tag, params object[] recipients)
    {
        _ = E2e.BaseUrl; // without an app at all, say that first
        using var http = new HttpClient { BaseAddress = E2e.Simulator };
        using var response = await http.PutAsJsonAsync($"_admin/tags/{tag}", new { recipients });
        Assert.True(response.IsSuccessStatusCode, $"seeding '{tag}' in the simulator answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    public static object Row(string phoneNumber, string status = "Delivered", int? settleAfterSeconds = null, string finalStatus = "Delivered", bool stopSms = false) =>
        settleAfterSeconds is { } seconds
            ? new { phoneNumber, status, settleAfterSeconds = seconds, finalStatus, stopSms }
            : new { phoneNumber, status, stopSms };
}
