using System.Globalization;
using System.Text.Json;

namespace SmsPartner.Simulator.Tests;

public sealed class ClockTests : SimulatorTestBase
{
    [Fact]
    public async Task Waiting_rows_settle_when_the_clock_passes_their_settle_time()
    {
        await SeedAsync(
            "settle",
            Row("+33600000001", "Waiting", settleAfterSeconds: 30, finalStatus: "Delivered"),
            Row("+33600000002", "Waiting", settleAfterSeconds: 90, finalStatus: "Not delivered"),
            Row("+33600000003", "Waiting"));
        var seededAt = Sim.State.Now.ToUnixTimeSeconds();

        var (_, before) = await GetStatusAsync("settle");
        await AdminAsync(HttpMethod.Post, "clock/advance", new { seconds = 60 });
        var (_, middle) = await GetStatusAsync("settle");
        await AdminAsync(HttpMethod.Post, "clock/advance", new { seconds = 60 });
        var (_, after) = await GetStatusAsync("settle");

        Assert.Equal(["Waiting", "Waiting", "Waiting"], Statuses(before));
        Assert.Equal(["Delivered", "Waiting", "Waiting"], Statuses(middle));
        Assert.Equal(["Delivered", "Not delivered", "Waiting"], Statuses(after));
        var settledDate = long.Parse(after.GetProperty("StatutResponse_List")[0].GetProperty("date").GetString()!, CultureInfo.InvariantCulture);
        Assert.InRange(settledDate, seededAt + 29, seededAt + 31);
    }

    [Fact]
    public async Task Final_status_defaults_to_delivered()
    {
        await SeedAsync("d", Row("+33600000001", "Queued", settleAfterSeconds: 5));

        Sim.State.AdvanceClock(TimeSpan.FromSeconds(5));
        var (_, body) = await GetStatusAsync("d");

        Assert.Equal(["Delivered"], Statuses(body));
    }

    [Fact]
    public async Task Clock_endpoint_reports_the_offset_and_refuses_going_backwards()
    {
        await AdminAsync(HttpMethod.Post, "clock/advance", new { seconds = 3600 });
        using var clock = JsonDocument.Parse(await Http.GetStringAsync("_admin/clock"));
        using var back = await Http.PostAsync("_admin/clock/advance", System.Net.Http.Json.JsonContent.Create(new { seconds = -1 }));

        Assert.Equal(3600, clock.RootElement.GetProperty("offsetSeconds").GetDouble());
        var unix = clock.RootElement.GetProperty("unixSeconds").GetInt64();
        Assert.InRange(unix - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 3595, 3605);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, back.StatusCode);
        Assert.Equal(TimeSpan.FromHours(1), Sim.State.Clock.Offset);
    }

    [Fact]
    public async Task Generated_tags_settle_to_the_requested_mix()
    {
        await AdminAsync(HttpMethod.Put, "tags/gen", new
        {
            generate = new { count = 1000, waitingRatio = 1.0, notDeliveredRatio = 0.1, settleAfterSecondsMin = 10, settleAfterSecondsMax = 120, seed = 42 },
        });

        var before = Sim.State.GetRows("gen")!;
        Sim.State.AdvanceClock(TimeSpan.FromSeconds(60));
        var halfway = Sim.State.GetRows("gen")!;
        Sim.State.AdvanceClock(TimeSpan.FromSeconds(61));
        var after = Sim.State.GetRows("gen")!;

        Assert.All(before, r => Assert.Equal("Waiting", r.Status));
        var waitingHalfway = halfway.Count(r => r.Status == "Waiting");
        Assert.InRange(waitingHalfway, 300, 700);
        Assert.DoesNotContain(after, r => r.Status == "Waiting");
        Assert.InRange(after.Count(r => r.Status == "Not delivered"), 60, 140);
        Assert.Equal(1000, after.Select(r => r.PhoneNumber).Distinct().Count());
    }

    [Fact]
    public void Same_generator_seed_gives_the_same_rows()
    {
        var spec = new GenerateSpec { Count = 50, WaitingRatio = 0.5, NotDeliveredRatio = 0.3, Seed = 7 };
        Sim.State.GenerateTag("a", spec);
        Sim.State.GenerateTag("b", spec);
        Sim.State.AdvanceClock(TimeSpan.FromMinutes(5));

        Assert.Equal(
            Sim.State.GetRows("a")!.Select(r => (r.PhoneNumber, r.Status)),
            Sim.State.GetRows("b")!.Select(r => (r.PhoneNumber, r.Status)));
    }

    [Fact]
    public void Stragglers_settle_after_the_rest_and_before_their_own_maximum()
    {
        Sim.State.GenerateTag("late", new GenerateSpec
        {
            Count = 1000, WaitingRatio = 1.0, SettleAfterSecondsMin = 10, SettleAfterSecondsMax = 60,
            StragglerRatio = 0.1, StragglerSettleAfterSecondsMax = 600, Seed = 5,
        });

        Sim.State.AdvanceClock(TimeSpan.FromSeconds(60));
        var stillWaiting = Sim.State.GetRows("late")!.Count(r => r.Status == SmsStatuses.Waiting);
        Sim.State.AdvanceClock(TimeSpan.FromSeconds(540));

        Assert.InRange(stillWaiting, 60, 140);
        Assert.DoesNotContain(Sim.State.GetRows("late")!, r => r.Status == SmsStatuses.Waiting);
    }

    [Fact]
    public void Stragglers_need_a_maximum_past_the_rest()
    {
        var spec = new GenerateSpec { Count = 10, SettleAfterSecondsMax = 60, StragglerRatio = 0.1, StragglerSettleAfterSecondsMax = 60 };

        Assert.Throws<ArgumentException>(() => Sim.State.GenerateTag("late", spec));
    }
}
