using System.Net;
using System.Text.Json.Nodes;
using static TagStatus.EndToEndTests.SimulatorAdmin;

namespace TagStatus.EndToEndTests;

/// <summary>
/// What only the real Azure Functions host shows: it loaded every function the build declares, with its bindings
/// resolved from the app settings, and its admin API runs the timer. (The rest of the suite runs on both hosts.)
/// </summary>
public sealed class FunctionsHostTests
{
    [FunctionsRuntimeFact]
    public async Task The_host_runs_every_function_of_functions_metadata_enabled_and_with_its_bindings_resolved()
    {
        using var admin = Admin();

        using var status = await admin.GetAsync("admin/host/status");
        using var functions = await admin.GetAsync("admin/functions");

        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        var host = await Json.ReadAsync(status);
        Assert.Equal("Running", host.Str("state"));
        Assert.True(host["errors"] is null || host["errors"]!.AsArray().Count == 0, $"host errors: {host["errors"]?.ToJsonString()}");
        Assert.Equal(HttpStatusCode.OK, functions.StatusCode);
        var loaded = (await Json.ReadAsync(functions)).AsArray().Select(f => f!).ToList();
        Assert.Equal(FunctionsMetadata.Load().Select(f => f.Name).Order(), loaded.Select(f => f.Str("name")!).Order());
        Assert.All(loaded, f => Assert.False(f["isDisabled"]!.GetValue<bool>(), $"{f.Str("name")} is disabled"));

        // A binding that does not resolve (a %Setting% missing from the app settings) leaves the host Running and the
        // function listed, but in error: only its status says so.
        foreach (var name in loaded.Select(f => f.Str("name")!))
        {
            using var functionStatus = await admin.GetAsync($"admin/functions/{name}/status");
            Assert.Equal(HttpStatusCode.OK, functionStatus.StatusCode);
            var errors = (await Json.ReadAsync(functionStatus))["errors"]?.AsArray();
            Assert.True(errors is null || errors.Count == 0, $"{name} is in error: {errors?.ToJsonString()}");
        }
    }

    [FunctionsRuntimeFact]
    public async Task The_admin_api_runs_the_timer_and_moves_a_registered_tag_to_complete()
    {
        var tag = E2e.NewTag("admin");
        await SeedAsync(tag, Row("+33600000001", "Waiting", settleAfterSeconds: 1), Row("+33600000002", "Waiting", settleAfterSeconds: 1));
        using var app = E2e.App();
        await TrackingTests.RegisterAsync(app, tag);
        using (var pending = await app.GetAsync($"api/tags/{tag}/completion"))
        {
            Assert.Equal(HttpStatusCode.Accepted, pending.StatusCode);
        }

        // The schedule never fires during the suite (scripts/start-stack.sh), so only these runs can move the tag.
        var done = await Polling.UntilCompletedAsync(app, tag, TimeSpan.FromSeconds(60));

        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Equal("complete", JsonNode.Parse(done.Body)!.Str("state"));
        Assert.Equal(2, JsonNode.Parse(done.Body)!.Int("counts.delivered"));
    }

    [FunctionsHostFact]
    public async Task The_admin_api_wants_the_master_key_not_a_function_key()
    {
        using var app = E2e.App();

        using var response = await app.PostAsync("admin/functions/RefreshPendingTags", Json.Body("{}"));

        Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"answered {(int)response.StatusCode}");
    }

    private static HttpClient Admin()
    {
        var admin = new HttpClient { BaseAddress = E2e.BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
        if (E2e.MasterKey.Length > 0)
        {
            admin.DefaultRequestHeaders.Add("x-functions-key", E2e.MasterKey);
        }

        return admin;
    }
}
