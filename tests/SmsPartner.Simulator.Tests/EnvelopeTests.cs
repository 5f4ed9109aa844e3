using System.Net;
using System.Text.Json;

namespace SmsPartner.Simulator.Tests;

public sealed class EnvelopeTests : SimulatorTestBase
{
    [Fact]
    public async Task Success_envelope_matches_the_documented_example_exactly()
    {
        Sim.State.SeedTag("montag", DemoSeed.DocumentedExample);

        var response = await Http.GetAsync(StatusPath("montag"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(
            """{"success":true,"code":200,"currentPage":1,"total":2,"StatutResponse_List":[{"phoneNumber":"+336XXXXXXX1","status":"Delivered","stopSMS":false,"date":"1517989111"},{"phoneNumber":"+336XXXXXXX2","status":"Delivered","stopSMS":false,"date":"1517989101"}]}""",
            text);
    }

    [Fact]
    public async Task Row_fields_have_the_documented_types()
    {
        await SeedAsync("t1", Row("+33600000001", "Waiting", stopSms: true));

        var (_, body) = await GetStatusAsync("t1");

        Assert.Equal(JsonValueKind.True, body.GetProperty("success").ValueKind);
        Assert.Equal(200, body.GetProperty("code").GetInt32());
        Assert.Equal(JsonValueKind.Number, body.GetProperty("currentPage").ValueKind);
        Assert.Equal(JsonValueKind.Number, body.GetProperty("total").ValueKind);
        var row = Assert.Single(body.GetProperty("StatutResponse_List").EnumerateArray());
        Assert.Equal(["phoneNumber", "status", "stopSMS", "date"], row.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Waiting", row.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.True, row.GetProperty("stopSMS").ValueKind);
        Assert.Equal(JsonValueKind.String, row.GetProperty("date").ValueKind);
        var date = long.Parse(row.GetProperty("date").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(date, Sim.State.Now.ToUnixTimeSeconds() - 5, Sim.State.Now.ToUnixTimeSeconds());
    }

    [Fact]
    public async Task Unknown_raw_statuses_are_passed_through_unchanged()
    {
        await SeedAsync("odd", Row("+33600000001", "Queued"), Row("+33600000002", "Not delivered"));

        var (_, body) = await GetStatusAsync("odd");

        Assert.Equal(["Queued", "Not delivered"], Statuses(body));
    }

    [Fact]
    public async Task Duplicate_phone_numbers_are_both_kept_in_order()
    {
        await SeedAsync("dup", Row("+33611111111", "Delivered"), Row("+33611111111", "Not delivered"), Row("+33622222222"));

        var (_, body) = await GetStatusAsync("dup");

        Assert.Equal(3, body.GetProperty("total").GetInt32());
        Assert.Equal(["+33611111111", "+33611111111", "+33622222222"], Phones(body));
        Assert.Equal(["Delivered", "Not delivered", "Delivered"], Statuses(body));
    }

    [Fact]
    public async Task Unknown_tag_answers_code_4_with_http_200_by_default()
    {
        var (response, body) = await GetStatusAsync("nosuchtag");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(body.GetProperty("success").GetBoolean());
        Assert.Equal(4, body.GetProperty("code").GetInt32());
        Assert.Equal("Message not found", body.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Deleted_tag_answers_code_4()
    {
        await SeedAsync("gone", Row("+33600000001"));
        Assert.Equal(200, (await GetStatusAsync("gone")).Body.GetProperty("code").GetInt32());

        await AdminAsync(HttpMethod.Delete, "tags/gone");

        Assert.Equal(4, (await GetStatusAsync("gone")).Body.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Reseeding_a_tag_replaces_its_rows()
    {
        await SeedAsync("re", Row("+33600000001"), Row("+33600000002"));
        await SeedAsync("re", Row("+33699999999", "Not delivered"));

        var (_, body) = await GetStatusAsync("re");

        Assert.Equal(["+33699999999"], Phones(body));
        Assert.Equal(1, body.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Failures_can_come_with_http_4xx_statuses()
    {
        Sim.State.SeedTag("t", [new RecipientSeed { PhoneNumber = "+33600000001" }]);
        await AdminAsync(HttpMethod.Put, "errors", new { useHttpStatus = true });

        var missing = await GetStatusAsync("t", apiKey: null);
        var invalid = await GetStatusAsync("t", apiKey: "wrong");
        var unknown = await GetStatusAsync("unknown");
        var ok = await GetStatusAsync("t");

        Assert.Equal(HttpStatusCode.BadRequest, missing.Response.StatusCode);
        Assert.Equal(1, missing.Body.GetProperty("code").GetInt32());
        Assert.Equal(HttpStatusCode.Unauthorized, invalid.Response.StatusCode);
        Assert.Equal(10, invalid.Body.GetProperty("code").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, unknown.Response.StatusCode);
        Assert.Equal(4, unknown.Body.GetProperty("code").GetInt32());
        Assert.Equal(HttpStatusCode.OK, ok.Response.StatusCode);
    }
}
