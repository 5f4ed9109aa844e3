using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace SmsPartner.Simulator.Tests;

public sealed class SeedingTests : SimulatorTestBase
{
    [Fact]
    public async Task Seed_file_given_on_the_command_line_is_loaded()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sim-seed-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, """
            {
              "apiKeys": ["file-key"],
              "tags": {
                "fromfile": { "recipients": [
                  { "phoneNumber": "+33611111111", "status": "Waiting", "settleAfterSeconds": 10, "finalStatus": "Not delivered" },
                  { "phoneNumber": "+33622222222", "status": "Delivered", "date": "1517989111" } ] },
                "gen": { "generate": { "count": 30, "seed": 1 } }
              }
            }
            """);
        try
        {
            await using var app = SimulatorApp.Build(["--urls", "http://127.0.0.1:0", "--Simulator:SeedFile=" + path, "--Logging:LogLevel:Default=Warning"]);
            await app.StartAsync();
            var root = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var http = new HttpClient { BaseAddress = new Uri(root) };

            using var doc = JsonDocument.Parse(await http.GetStringAsync("v1/bulk-status-by-tag?apiKey=file-key&tag=fromfile"));
            using var refused = JsonDocument.Parse(await http.GetStringAsync("v1/bulk-status-by-tag?apiKey=sim-key&tag=fromfile"));
            var state = app.Services.GetRequiredService<SimulatorState>();

            Assert.Equal(["Waiting", "Delivered"], Statuses(doc.RootElement));
            Assert.Equal("1517989111", doc.RootElement.GetProperty("StatutResponse_List")[1].GetProperty("date").GetString());
            Assert.Equal(10, refused.RootElement.GetProperty("code").GetInt32());
            Assert.Equal(30, state.Tags["gen"]);
            state.AdvanceClock(TimeSpan.FromSeconds(10));
            Assert.Equal("Not delivered", state.GetRows("fromfile")![0].Status);
            await app.StopAsync();
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_broken_seed_file_fails_the_start_with_the_setting_named()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sim-seed-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{ "tags": { "x": { } } }""");
        try
        {
            var error = Assert.Throws<InvalidOperationException>(() => SimulatorApp.Build(["--Simulator:SeedFile=" + path]));
            Assert.Contains("Simulator:SeedFile", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_shipped_sample_seed_file_loads()
    {
        var sample = Path.Combine(FindRepoRoot(), "src", "SmsPartner.Simulator", "seed.sample.json");
        var state = new SimulatorState(new SimulatorOptions());

        var tags = SimulatorApp.LoadSeedFile(state, sample);

        Assert.Equal(3, tags);
        Assert.Equal(2, state.Tags["montag"]);
        Assert.Equal(1000, state.Tags["bigcampaign"]);
    }

    [Fact]
    public async Task Demo_option_seeds_a_settling_campaign_and_the_documented_example()
    {
        await using var sim = await SimulatorApp.StartAsync(new SimulatorOptions { Demo = true });

        var demo = sim.State.GetRows("demo")!;
        var montag = sim.State.GetRows("montag")!;
        sim.State.AdvanceClock(TimeSpan.FromSeconds(29));
        var early = sim.State.GetRows("demo")!;
        sim.State.AdvanceClock(TimeSpan.FromSeconds(122));
        var settled = sim.State.GetRows("demo")!;

        Assert.Equal(25, demo.Count);
        Assert.All(demo, r => Assert.Equal("Waiting", r.Status));
        Assert.All(early, r => Assert.Equal("Waiting", r.Status));
        Assert.Contains(settled, r => r.Status == "Delivered");
        Assert.Contains(settled, r => r.Status == "Not delivered");
        Assert.DoesNotContain(settled, r => r.Status == "Waiting");
        Assert.Equal(["+336XXXXXXX1", "+336XXXXXXX2"], montag.Select(r => r.PhoneNumber));
        Assert.All(montag, r => Assert.Equal("Delivered", r.Status));
    }

    [Fact]
    public async Task Admin_seed_bodies_are_validated()
    {
        using var neither = await Http.PutAsync("_admin/tags/x", System.Net.Http.Json.JsonContent.Create(new { }));
        using var badRatio = await Http.PutAsync("_admin/tags/x", System.Net.Http.Json.JsonContent.Create(new { generate = new { count = 5, notDeliveredRatio = 1.5 } }));
        using var noPhone = await Http.PutAsync("_admin/tags/x", System.Net.Http.Json.JsonContent.Create(new { recipients = new[] { new { status = "Delivered" } } }));

        Assert.Equal(HttpStatusCode.BadRequest, neither.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badRatio.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noPhone.StatusCode);
        Assert.Empty(Sim.State.Tags);
    }

    [Fact]
    public async Task Admin_tag_view_shows_rows_as_they_read_now()
    {
        await SeedAsync("v", Row("+33600000001", "Waiting", settleAfterSeconds: 1));
        Sim.State.AdvanceClock(TimeSpan.FromSeconds(2));

        using var doc = JsonDocument.Parse(await Http.GetStringAsync("_admin/tags/v"));
        using var missing = await Http.GetAsync("_admin/tags/none");

        Assert.Equal("Delivered", doc.RootElement.GetProperty("rows")[0].GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Reset_returns_to_the_start_up_state()
    {
        await SeedAsync("t", Row("+33600000001"));
        await AdminAsync(HttpMethod.Put, "apikeys", new { validKeys = new[] { "other" } });
        await AdminAsync(HttpMethod.Put, "paging", new { ignorePage = true });
        Sim.State.QueueFault(FaultKind.ServerError);
        Sim.State.AdvanceClock(TimeSpan.FromHours(1));
        await GetStatusAsync("t", apiKey: "other");

        await AdminAsync(HttpMethod.Post, "reset");

        Assert.Empty(Sim.State.Tags);
        Assert.Empty(Sim.State.PendingFaults);
        Assert.Equal(0, Sim.State.StatusRequests);
        Assert.Equal(TimeSpan.Zero, Sim.State.Clock.Offset);
        Assert.False(Sim.State.Paging.IgnorePage);
        await SeedAsync("t", Row("+33600000001"));
        Assert.Equal(200, (await GetStatusAsync("t")).Body.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Concurrent_calls_are_all_answered_and_counted()
    {
        Sim.State.GenerateTag("load", new GenerateSpec { Count = 100, Seed = 3 });

        var bodies = await Task.WhenAll(Enumerable.Range(1, 40).Select(i => Http.GetStringAsync(StatusPath("load", page: (i % 5) + 1))));

        Assert.All(bodies, b => Assert.Contains("\"total\":100", b, StringComparison.Ordinal));
        Assert.Equal(40, Sim.State.StatusRequestsFor("load"));
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FunctionApp.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("FunctionApp.sln not found above " + AppContext.BaseDirectory);
    }
}
