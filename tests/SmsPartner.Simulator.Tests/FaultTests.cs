using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace SmsPartner.Simulator.Tests;

public sealed class FaultTests : SimulatorTestBase
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await SeedAsync("montag", Row("+33600000001"), Row("+33600000002"));
        await SeedAsync("other", Row("+33600000009"));
    }

    private Task QueueAsync(object fault) => AdminAsync(HttpMethod.Post, "faults", fault);

    private async Task AssertNormalAsync(string tag = "montag")
    {
        var (response, body) = await GetStatusAsync(tag);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(200, body.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Server_error_answers_500_for_count_calls_then_recovers()
    {
        await QueueAsync(new { kind = "ServerError", count = 2 });

        using var first = await Http.GetAsync(StatusPath("montag"));
        using var second = await Http.GetAsync(StatusPath("montag"));

        Assert.Equal(HttpStatusCode.InternalServerError, first.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, second.StatusCode);
        await AssertNormalAsync();
    }

    [Fact]
    public async Task Server_error_status_can_be_chosen()
    {
        await QueueAsync(new { kind = "ServerError", httpStatus = 503 });

        using var response = await Http.GetAsync(StatusPath("montag"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task Too_many_requests_answers_429_with_retry_after()
    {
        await QueueAsync(new { kind = "TooManyRequests", retryAfterSeconds = 7 });

        using var response = await Http.GetAsync(StatusPath("montag"));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta);
        await AssertNormalAsync();
    }

    [Fact]
    public async Task Malformed_json_is_labelled_json_but_does_not_parse()
    {
        await QueueAsync(new { kind = "MalformedJson" });

        using var response = await Http.GetAsync(StatusPath("montag"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(text));
    }

    [Fact]
    public async Task Truncated_body_fails_while_reading()
    {
        await QueueAsync(new { kind = "Truncated" });

        var error = await Record.ExceptionAsync(async () =>
        {
            using var response = await Http.GetAsync(StatusPath("montag"));
            await response.Content.ReadAsStringAsync();
        });

        Assert.True(error is HttpRequestException or IOException, $"expected a transport error, got {error?.GetType().Name ?? "none"}");
        await AssertNormalAsync();
    }

    [Fact]
    public async Task Dropped_ends_the_connection_with_no_answer()
    {
        await QueueAsync(new { kind = "Dropped" });

        var error = await Record.ExceptionAsync(async () =>
        {
            using var response = await Http.GetAsync(StatusPath("montag"));
        });

        Assert.IsType<HttpRequestException>(error);
        await AssertNormalAsync();
    }

    [Fact]
    public async Task A_fault_for_one_page_leaves_the_other_pages_alone()
    {
        await QueueAsync(new { kind = "ServerError", page = 2, count = 2 });

        var (first, _) = await GetStatusAsync("montag", page: 1);
        using var second = await Http.GetAsync(StatusPath("montag", page: 2));
        var (noPage, _) = await GetStatusAsync("montag"); // no page parameter means page 1

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, noPage.StatusCode);
        Assert.Single(Sim.State.PendingFaults);
    }

    [Fact]
    public async Task A_page_below_one_is_refused_by_the_admin_api()
    {
        using var response = await Http.PostAsJsonAsync("/_admin/faults", new { kind = "ServerError", page = 0 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Non_json_answers_an_html_page_with_200()
    {
        await QueueAsync(new { kind = "NonJson" });

        using var response = await Http.GetAsync(StatusPath("montag"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("<!DOCTYPE html>", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failure_answers_the_documented_envelope_with_the_given_code()
    {
        await QueueAsync(new { kind = "Failure", code = 10 });
        await QueueAsync(new { kind = "Failure", code = 4, httpStatus = 404 });

        var (first, firstBody) = await GetStatusAsync("montag");
        var (second, secondBody) = await GetStatusAsync("montag");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("""{"success":false,"code":10,"message":"Invalid API key"}""", firstBody.GetRawText());
        Assert.Equal(HttpStatusCode.NotFound, second.StatusCode);
        Assert.Equal(4, secondBody.GetProperty("code").GetInt32());
        await AssertNormalAsync();
    }

    [Fact]
    public async Task Slow_answers_normally_after_the_delay()
    {
        await QueueAsync(new { kind = "Slow", delayMs = 300 });

        var watch = Stopwatch.StartNew();
        var (response, body) = await GetStatusAsync("montag");
        watch.Stop();

        Assert.True(watch.ElapsedMilliseconds >= 280, $"answered after {watch.ElapsedMilliseconds} ms");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, body.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Slow_lets_the_caller_give_up()
    {
        await QueueAsync(new { kind = "Slow", delayMs = 10_000 });
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));

        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Http.GetAsync(StatusPath("montag"), cts.Token));
        watch.Stop();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"cancellation took {watch.ElapsedMilliseconds} ms");
        await AssertNormalAsync();
    }

    [Fact]
    public async Task Tag_scoped_fault_only_hits_calls_for_that_tag()
    {
        await QueueAsync(new { kind = "ServerError", tag = "other" });

        await AssertNormalAsync("montag");
        using var hit = await Http.GetAsync(StatusPath("other"));

        Assert.Equal(HttpStatusCode.InternalServerError, hit.StatusCode);
        await AssertNormalAsync("other");
    }

    [Fact]
    public async Task Faults_are_served_in_queue_order()
    {
        await QueueAsync(new { kind = "TooManyRequests" });
        await QueueAsync(new { kind = "ServerError" });

        using var first = await Http.GetAsync(StatusPath("montag"));
        using var second = await Http.GetAsync(StatusPath("montag"));

        Assert.Equal(HttpStatusCode.TooManyRequests, first.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, second.StatusCode);
    }

    [Fact]
    public async Task Clearing_faults_drops_the_queue()
    {
        await QueueAsync(new { kind = "ServerError", count = 5 });
        Assert.Equal(5, Assert.Single(Sim.State.PendingFaults).Remaining);

        await AdminAsync(HttpMethod.Delete, "faults");

        Assert.Empty(Sim.State.PendingFaults);
        await AssertNormalAsync();
    }

    [Fact]
    public async Task Faults_without_a_kind_or_with_a_bad_count_are_refused()
    {
        using var noKind = await Http.PostAsync("_admin/faults", System.Net.Http.Json.JsonContent.Create(new { count = 1 }));
        using var badCount = await Http.PostAsync("_admin/faults", System.Net.Http.Json.JsonContent.Create(new { kind = "Slow", count = 0 }));
        using var badKind = await Http.PostAsync("_admin/faults", System.Net.Http.Json.JsonContent.Create(new { kind = "Explode" }));

        Assert.Equal(HttpStatusCode.BadRequest, noKind.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badCount.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badKind.StatusCode);
        Assert.Empty(Sim.State.PendingFaults);
    }
}
