using System.Net;
using System.Text.Json;

namespace SmsPartner.Simulator.Tests;

public sealed class StatsTests : SimulatorTestBase
{
    [Fact]
    public async Task Stats_count_requests_per_tag_and_distinct_keys_without_showing_them()
    {
        await SeedAsync("montag", Row("+33600000001"));
        await SeedAsync("b", Row("+33600000002"));

        await GetStatusAsync("montag");
        await GetStatusAsync("montag", page: 2);
        await GetStatusAsync("b");
        await GetStatusAsync("montag", apiKey: "wrong-key-xyz");
        await GetStatusAsync("montag", apiKey: null);
        var text = await Http.GetStringAsync("_admin/stats");
        using var stats = JsonDocument.Parse(text);

        Assert.Equal(5, stats.RootElement.GetProperty("statusRequests").GetInt64());
        Assert.Equal(4, stats.RootElement.GetProperty("byTag").GetProperty("montag").GetInt64());
        Assert.Equal(1, stats.RootElement.GetProperty("byTag").GetProperty("b").GetInt64());
        Assert.Equal(2, stats.RootElement.GetProperty("apiKeysSeen").GetInt32());
        Assert.Equal(2, stats.RootElement.GetProperty("keyRefusals").GetInt64());
        Assert.DoesNotContain("sim-key", text, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-key-xyz", text, StringComparison.Ordinal);
        Assert.Equal(5, Sim.State.StatusRequests);
        Assert.Equal(4, Sim.State.StatusRequestsFor("montag"));
    }

    [Fact]
    public async Task Faulted_calls_are_counted()
    {
        await SeedAsync("montag", Row("+33600000001"));
        Sim.State.QueueFault(FaultKind.ServerError);

        await Http.GetAsync(StatusPath("montag"));
        await GetStatusAsync("montag");

        var stats = Sim.State.GetStats();
        Assert.Equal(2, stats.StatusRequests);
        Assert.Equal(1, stats.FaultsServed);
    }

    [Fact]
    public async Task Deleting_stats_resets_the_counters()
    {
        await SeedAsync("montag", Row("+33600000001"));
        await GetStatusAsync("montag");

        await AdminAsync(HttpMethod.Delete, "stats");
        using var stats = JsonDocument.Parse(await Http.GetStringAsync("_admin/stats"));

        Assert.Equal(0, stats.RootElement.GetProperty("statusRequests").GetInt64());
        Assert.Empty(stats.RootElement.GetProperty("byTag").EnumerateObject());
        Assert.Equal(0, stats.RootElement.GetProperty("apiKeysSeen").GetInt32());
    }

    [Fact]
    public async Task Admin_calls_are_not_counted_and_health_answers_200()
    {
        using var health = await Http.GetAsync("_admin/health");
        await Http.GetStringAsync("_admin/tags");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(0, Sim.State.StatusRequests);
    }
}

public sealed class CallRecordTests : SimulatorTestBase
{
    [Fact]
    public async Task Each_status_call_is_recorded_in_arrival_order_with_its_time_and_tag()
    {
        await SeedAsync("montag", Row("+33600000001"));
        var before = Sim.State.Now;

        await GetStatusAsync("montag");
        await GetStatusAsync("other", apiKey: "wrong-key-xyz");
        await GetStatusAsync(null);
        var after = Sim.State.Now;
        var text = await Http.GetStringAsync("_admin/stats/calls");
        using var json = JsonDocument.Parse(text);

        var calls = json.RootElement.GetProperty("calls").EnumerateArray().ToList();
        Assert.Equal(["montag", "other", ""], calls.Select(c => c.GetProperty("tag").GetString()));
        var times = calls.Select(c => c.GetProperty("at").GetDateTimeOffset()).ToList();
        Assert.All(times, t => Assert.InRange(t, before, after));
        Assert.Equal(times.Order(), times);
        Assert.DoesNotContain("wrong-key-xyz", text, StringComparison.Ordinal);
        Assert.DoesNotContain("sim-key", text, StringComparison.Ordinal);
        Assert.Equal(3, Sim.State.GetCalls().Count);
    }

    [Fact]
    public async Task Times_are_on_the_simulator_clock()
    {
        await SeedAsync("montag", Row("+33600000001"));
        Sim.State.AdvanceClock(TimeSpan.FromHours(5));

        await GetStatusAsync("montag");

        Assert.True(Assert.Single(Sim.State.GetCalls()).At > DateTimeOffset.UtcNow.AddHours(4));
    }

    [Fact]
    public async Task Resetting_stats_forgets_the_calls_and_admin_calls_are_not_recorded()
    {
        await SeedAsync("montag", Row("+33600000001"));
        await GetStatusAsync("montag");

        await AdminAsync(HttpMethod.Delete, "stats");
        await Http.GetStringAsync("_admin/stats/calls");

        Assert.Empty(Sim.State.GetCalls());
    }
}
