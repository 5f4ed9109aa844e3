using System.Text.Json;

namespace SmsPartner.Simulator.Tests;

public sealed class PagingTests : SimulatorTestBase
{
    private static readonly string[] AllPhones = Enumerable.Range(1, 45).Select(i => $"+336{i:D8}").ToArray();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await SeedAsync("big", AllPhones.Select(p => Row(p)).ToArray());
    }

    [Fact]
    public async Task Pages_of_20_cover_every_row_once_and_report_total_on_each_page()
    {
        var collected = new List<string>();
        var sizes = new List<int>();
        for (var page = 1; page <= 4; page++)
        {
            var (_, body) = await GetStatusAsync("big", page: page);
            Assert.Equal(page, body.GetProperty("currentPage").GetInt32());
            Assert.Equal(45, body.GetProperty("total").GetInt32());
            var phones = Phones(body);
            sizes.Add(phones.Count);
            collected.AddRange(phones);
        }

        Assert.Equal([20, 20, 5, 0], sizes);
        Assert.Equal(AllPhones, collected);
    }

    [Fact]
    public async Task Missing_or_invalid_page_means_page_1()
    {
        var (_, noPage) = await GetStatusAsync("big");
        var response = await Http.GetStringAsync(StatusPath("big") + "&page=abc");
        using var invalid = JsonDocument.Parse(response);

        Assert.Equal(1, noPage.GetProperty("currentPage").GetInt32());
        Assert.Equal(AllPhones[..20], Phones(noPage));
        Assert.Equal(1, invalid.RootElement.GetProperty("currentPage").GetInt32());
    }

    [Fact]
    public async Task Page_size_is_a_setting()
    {
        await AdminAsync(HttpMethod.Put, "paging", new { pageSize = 7 });

        var (_, page2) = await GetStatusAsync("big", page: 2);
        var (_, page7) = await GetStatusAsync("big", page: 7);

        Assert.Equal(AllPhones[7..14], Phones(page2));
        Assert.Equal(AllPhones[42..], Phones(page7));
        Assert.Equal(45, page7.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Page_size_option_applies_from_start()
    {
        await using var sim = await SimulatorApp.StartAsync(new SimulatorOptions { PageSize = 3 });
        sim.State.SeedTag("t", AllPhones.Select(p => new RecipientSeed { PhoneNumber = p }));
        using var http = new HttpClient();

        using var doc = JsonDocument.Parse(await http.GetStringAsync(sim.StatusUri("t", page: 2)));

        Assert.Equal(AllPhones[3..6], Phones(doc.RootElement));
    }

    [Fact]
    public async Task Ignore_page_mode_always_answers_page_1()
    {
        await AdminAsync(HttpMethod.Put, "paging", new { ignorePage = true });

        var (_, page1) = await GetStatusAsync("big", page: 1);
        var (_, page2) = await GetStatusAsync("big", page: 2);

        Assert.Equal(Phones(page1), Phones(page2));
        Assert.Equal(AllPhones[..20], Phones(page2));
        Assert.Equal(1, page2.GetProperty("currentPage").GetInt32());
        Assert.Equal(45, page2.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Shift_mode_moves_rows_from_the_end_to_the_front_before_each_later_request()
    {
        await SeedAsync("five", AllPhones[..5].Select(p => Row(p)).ToArray());
        await AdminAsync(HttpMethod.Put, "paging", new { pageSize = 2, shiftPerRequest = 1 });

        var (_, page1) = await GetStatusAsync("five", page: 1);
        var (_, page2) = await GetStatusAsync("five", page: 2);
        var (_, page3) = await GetStatusAsync("five", page: 3);

        // A reader of pages 1..3 sees 0,1 then 1,2 then 2: rows read twice, rows 3 and 4 never, total still 5.
        Assert.Equal(AllPhones[..2], Phones(page1));
        Assert.Equal(AllPhones[1..3], Phones(page2));
        Assert.Equal(AllPhones[2..3], Phones(page3));
        Assert.Equal(5, page3.GetProperty("total").GetInt32());
        Assert.Equal(1, Sim.State.Paging.ShiftPerRequest);
    }

    [Fact]
    public async Task Shift_counts_requests_per_tag_and_restarts_when_the_tag_is_seeded_again()
    {
        await SeedAsync("five", AllPhones[..5].Select(p => Row(p)).ToArray());
        await AdminAsync(HttpMethod.Put, "paging", new { pageSize = 5, shiftPerRequest = 2 });
        await GetStatusAsync("big");

        var (_, first) = await GetStatusAsync("five");
        var (_, second) = await GetStatusAsync("five");
        await SeedAsync("five", AllPhones[..5].Select(p => Row(p)).ToArray());
        var (_, reseeded) = await GetStatusAsync("five");

        Assert.Equal(AllPhones[..5], Phones(first));
        Assert.Equal([.. AllPhones[3..5], .. AllPhones[..3]], Phones(second));
        Assert.Equal(AllPhones[..5], Phones(reseeded));
    }

    [Fact]
    public async Task A_negative_shift_is_refused()
    {
        using var negative = await Http.PutAsync("_admin/paging", System.Net.Http.Json.JsonContent.Create(new { shiftPerRequest = -1 }));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, negative.StatusCode);
        Assert.Equal(0, Sim.State.Paging.ShiftPerRequest);
    }

    [Fact]
    public async Task Numbers_as_strings_mode_sends_total_and_current_page_as_strings()
    {
        await AdminAsync(HttpMethod.Put, "paging", new { numbersAsStrings = true });

        var (_, body) = await GetStatusAsync("big", page: 3);

        Assert.Equal(JsonValueKind.String, body.GetProperty("total").ValueKind);
        Assert.Equal("45", body.GetProperty("total").GetString());
        Assert.Equal("3", body.GetProperty("currentPage").GetString());
        Assert.Equal(200, body.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Date_as_number_mode_sends_date_as_a_number()
    {
        await AdminAsync(HttpMethod.Put, "paging", new { dateAsNumber = true });

        var (_, body) = await GetStatusAsync("big");
        var date = body.GetProperty("StatutResponse_List")[0].GetProperty("date");

        Assert.Equal(JsonValueKind.Number, date.ValueKind);
        Assert.InRange(date.GetInt64(), Sim.State.Now.ToUnixTimeSeconds() - 60, Sim.State.Now.ToUnixTimeSeconds());
    }

    [Theory]
    [InlineData("bool", "true", "false")]
    [InlineData("int", "1", "0")]
    [InlineData("string", "\"true\"", "\"false\"")]
    public async Task Stop_sms_is_written_in_the_chosen_shape(string shape, string whenTrue, string whenFalse)
    {
        await SeedAsync("stop", Row("+33600000001", stopSms: true), Row("+33600000002", stopSms: false));
        await AdminAsync(HttpMethod.Put, "paging", new { stopSmsAs = shape });

        var (_, body) = await GetStatusAsync("stop");
        var rows = body.GetProperty("StatutResponse_List");

        Assert.Equal(whenTrue, rows[0].GetProperty("stopSMS").GetRawText());
        Assert.Equal(whenFalse, rows[1].GetProperty("stopSMS").GetRawText());
    }

    [Fact]
    public async Task Paging_update_is_partial_and_rejects_a_zero_page_size()
    {
        await AdminAsync(HttpMethod.Put, "paging", new { ignorePage = true });
        await AdminAsync(HttpMethod.Put, "paging", new { numbersAsStrings = true });
        using var zero = await Http.PutAsync("_admin/paging", System.Net.Http.Json.JsonContent.Create(new { pageSize = 0 }));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, zero.StatusCode);
        Assert.Equal(new PagingSettings(20, IgnorePage: true, NumbersAsStrings: true), Sim.State.Paging);
    }
}
