using System.Net;

namespace SmsPartner.Simulator.Tests;

public sealed class ApiKeyTests : SimulatorTestBase
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await SeedAsync("montag", Row("+33600000001"));
    }

    [Fact]
    public async Task Missing_key_answers_code_1()
    {
        var (response, body) = await GetStatusAsync("montag", apiKey: null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(body.GetProperty("success").GetBoolean());
        Assert.Equal(1, body.GetProperty("code").GetInt32());
        Assert.Equal("API key is required", body.GetProperty("message").GetString());
        Assert.False(body.TryGetProperty("StatutResponse_List", out _));
    }

    [Fact]
    public async Task Empty_key_answers_code_1()
    {
        var (_, body) = await GetStatusAsync("montag", apiKey: "");

        Assert.Equal(1, body.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Wrong_key_answers_code_10_even_for_an_unknown_tag()
    {
        var (_, body) = await GetStatusAsync("nosuchtag", apiKey: "not-the-key");

        Assert.Equal(
            """{"success":false,"code":10,"message":"Invalid API key"}""",
            body.GetRawText());
    }

    [Fact]
    public async Task Rotation_replaces_the_accepted_keys()
    {
        await AdminAsync(HttpMethod.Put, "apikeys", new { validKeys = new[] { "k1", "k2" } });

        Assert.Equal(10, (await GetStatusAsync("montag", apiKey: "sim-key")).Body.GetProperty("code").GetInt32());
        Assert.Equal(200, (await GetStatusAsync("montag", apiKey: "k1")).Body.GetProperty("code").GetInt32());
        Assert.Equal(200, (await GetStatusAsync("montag", apiKey: "k2")).Body.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Key_rotation_answer_does_not_echo_the_keys()
    {
        using var response = await Http.PutAsync("_admin/apikeys", System.Net.Http.Json.JsonContent.Create(new { validKeys = new[] { "secret-one" } }));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("secret-one", text, StringComparison.Ordinal);
        Assert.Contains("\"validKeyCount\":1", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Initial_key_comes_from_options()
    {
        await using var sim = await SimulatorApp.StartAsync(new SimulatorOptions { ApiKey = "custom" });
        sim.State.SeedTag("t", [new RecipientSeed { PhoneNumber = "+33600000001" }]);
        using var http = new HttpClient();

        var good = await http.GetStringAsync(sim.StatusUri("t"));
        var bad = await http.GetStringAsync(sim.StatusUri("t", apiKey: "sim-key"));

        Assert.Equal("custom", sim.ApiKey);
        Assert.Contains("\"code\":200", good, StringComparison.Ordinal);
        Assert.Contains("\"code\":10", bad, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Empty_key_list_from_admin_is_refused_as_bad_request_only_when_a_key_is_blank()
    {
        using var blank = await Http.PutAsync("_admin/apikeys", System.Net.Http.Json.JsonContent.Create(new { validKeys = new[] { "" } }));
        Assert.Equal(HttpStatusCode.BadRequest, blank.StatusCode);
        Assert.Equal(200, (await GetStatusAsync("montag")).Body.GetProperty("code").GetInt32());

        await AdminAsync(HttpMethod.Put, "apikeys", new { validKeys = Array.Empty<string>() });
        Assert.Equal(10, (await GetStatusAsync("montag")).Body.GetProperty("code").GetInt32());
    }
}
