using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Moq;
using TagStatus.Core.Domain;
using TagStatus.Core.Secrets;
using TagStatus.Core.SmsPartner;
using TagStatus.Tests.Support;
using static TagStatus.Tests.Support.SmsPartnerBodies;

namespace TagStatus.Tests.SmsPartner;

public sealed class SmsPartnerClientTests
{
    private const string Key = "SECRET-KEY-123";
    private const string RotatedKey = "ROTATED-KEY-456";
    private static readonly Tag MonTag = Tag.Parse("montag");

    private readonly Mock<ISecretSource> _secrets = new(MockBehavior.Strict);
    private readonly FakeLogger<SmsPartnerClient> _logger = new();

    public SmsPartnerClientTests()
    {
        _secrets.Setup(s => s.GetAsync(AppSecret.SmsPartnerApiKey, It.IsAny<CancellationToken>())).Returns(() => new ValueTask<string>(Key));
    }

    private SmsPartnerClient Client(ScriptedHttpHandler handler, int maxPages = 500) => new(
        new HttpClient(handler),
        _secrets.Object,
        Options.Create(new SmsPartnerOptions { BaseUrl = new("https://sim.test/v1/"), MaxPages = maxPages }),
        TimeProvider.System,
        _logger);

    private void AssertNoKeyLogged()
    {
        foreach (var record in _logger.Collector.GetSnapshot())
        {
            Assert.DoesNotContain(Key, record.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(Key, record.Exception?.ToString() ?? string.Empty, StringComparison.Ordinal);
        }
    }

    // ---- parsing ----

    [Fact]
    public async Task The_documented_answer_is_read_row_by_row()
    {
        var handler = ScriptedHttpHandler.Pages(
            """{"success":true,"code":200,"currentPage":1,"total":2,"StatutResponse_List":[{"phoneNumber":"+336XXXXXXX1","status":"Delivered","stopSMS":false,"date":"1517989111"},{"phoneNumber":"+336XXXXXXX2","status":"Waiting","stopSMS":true,"date":"1517989200"}]}""");

        var report = await Client(handler).GetStatusesByTagAsync(MonTag, default);

        Assert.Equal(2, report.RowsRead.Count);
        Assert.Equal(new UpstreamRecipient("+336XXXXXXX1", "Delivered", false, new DateTimeOffset(2018, 2, 7, 7, 38, 31, TimeSpan.Zero)), report.RowsRead[0]);
        Assert.Equal(new UpstreamRecipient("+336XXXXXXX2", "Waiting", true, new DateTimeOffset(2018, 2, 7, 7, 40, 0, TimeSpan.Zero)), report.RowsRead[1]);
        Assert.Equal(2, report.AnnouncedTotal);
        Assert.Equal(1, report.PagesRead);
        Assert.True(report.IsFull);
        var request = Assert.Single(handler.Requests);
        Assert.Equal("https://sim.test/v1/bulk-status-by-tag", request.Uri.GetLeftPart(UriPartial.Path));
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal(Key, request.ApiKey);
        Assert.Equal("montag", request.Tag);
        Assert.Equal(1, request.Page);
    }

    [Theory]
    [InlineData("1", "2")]
    [InlineData("\"1\"", "\"2\"")]
    [InlineData("\"1\"", "2")]
    [InlineData("1", "\"2\"")]
    public async Task Total_and_currentPage_are_read_as_numbers_or_strings(string currentPage, string total)
    {
        var handler = ScriptedHttpHandler.Pages(Page(currentPage, total, Rows(1, 2)));

        var report = await Client(handler).GetStatusesByTagAsync(MonTag, default);

        Assert.Equal(2, report.AnnouncedTotal);
        Assert.Equal(2, report.RowsRead.Count);
        Assert.True(report.IsFull);
        Assert.Single(handler.Requests);
    }

    [Theory]
    [InlineData("\"1517989111\"")]
    [InlineData("1517989111")]
    public async Task Date_is_read_as_unix_seconds_in_a_string_or_a_number(string date)
    {
        var handler = ScriptedHttpHandler.Pages(Page("1", "1", Row("+33600000001", date: date)));

        var report = await Client(handler).GetStatusesByTagAsync(MonTag, default);

        Assert.Equal(new DateTimeOffset(2018, 2, 7, 7, 38, 31, TimeSpan.Zero), Assert.Single(report.RowsRead).StatusAt);
    }

    [Fact]
    public async Task Date_in_the_single_status_form_is_read_as_utc()
    {
        var handler = ScriptedHttpHandler.Pages(Page("1", "1", Row("+33600000001", date: "\"2015-02-07 22:39:46\"")));

        var report = await Client(handler).GetStatusesByTagAsync(MonTag, default);

        Assert.Equal(new DateTimeOffset(2015, 2, 7, 22, 39, 46, TimeSpan.Zero), Assert.Single(report.RowsRead).StatusAt);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("\"\"")]
    [InlineData("\"soon\"")]
    [InlineData("0")]
    public async Task An_unreadable_date_becomes_null_not_a_failure(string date)
    {
        var handler = ScriptedHttpHandler.Pages(Page("1", "1", Row("+33600000001", date: date)));

        var report = await Client(handler).GetStatusesByTagAsync(MonTag, default);

        Assert.Null(Assert.Single(report.RowsRead).StatusAt);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    [InlineData("1", true)]
    [InlineData("0", false)]
    [InlineData("\"true\"", true)]
    [InlineData("\"false\"", false)]
    [InlineData("\"1\"", true)]
    [InlineData("\"0\"", false)]
    [InlineData("null", false)]
    public async Task StopSMS_is_read_as_bool_number_or_string(string stopSms, bool expected)
    {
        var handler = ScriptedHttpHandler.Pages(Page("1", "1", Row("+33600000001", stopSms: stopSms)));

        var report = await Client(handler).GetStatusesByTagAsync(MonTag, default);

        Assert.Equal(expected, Assert.Single(report.RowsRead).StopSms);
    }

    [Fact]
    public async Task An_unknown_status_is_kept_raw_and_maps_to_unknown()
    {
        var handler = ScriptedHttpHandler.Pages(Page("1", "1", Row("+33600000001", status: "Queued")));

        var report = await Client(handler).GetStatusesByTagAsync(MonTag, default);

        var row = Assert.Single(report.RowsRead);
        Assert.Equal("Queued", row.RawStatus);
        Assert.Equal(DeliveryStatus.Unknown, DeliveryStatuses.FromUpstream(row.RawStatus));
    }

    [Fact]
    public async Task An_unknown_status_is_logged_as_a_warning()
    {
        var handler = ScriptedHttpHandler.Pages(Page("1", "2", Row("+33600000001", status: "Queued"), Row("+33600000002")));

        await Client(handler).GetStatusesByTagAsync(MonTag, default);

        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Level == Microsoft.Extensions.Logging.LogLevel.Warning && r.Message.Contains("Queued", StringComparison.Ordinal));
    }

    // ---- paging ----

    [Fact]
    public async Task Pages_are_followed_until_the_total_is_reached()
    {
        var handler = ScriptedHttpHandler.Pages(
            Page("1", "5", Rows(1, 2)),
            Page("2", "5", Rows(3, 2)),
            Page("3", "5", Rows(5, 1)));

        var report = await Client(handler).GetStatusesByTagAsync(MonTag, default);

        Assert.Equal([1, 2, 3], handler.Requests.Select(r => r.Page));
        Assert.Equal(5, report.RowsRead.Count);
        Assert.Equal(5, report.RowsRead.Select(r => r.PhoneNumber).Distinct().Count());
        Assert.Equal(3, report.PagesRead);
        Assert.True(report.IsFull);
    }

    private static UpstreamRecipient[] UpstreamRows(int from, int count) =>
        [.. Enumerable.Range(from, count).Select(i => new UpstreamRecipient($"+336{i:D8}", "Delivered", false, DateTimeOffset.FromUnixTimeSeconds(1517989111)))];

    [Fact]
    public async Task A_step_holding_only_its_own_pages_stops_open_where_the_earlier_pages_could_reach_the_total()
    {
        var handler = ScriptedHttpHandler.Pages(
            Page("1", "8", Rows(1, 2)), Page("2", "8", Rows(3, 2)), Page("3", "8", Rows(5, 2)), Page("4", "8", Rows(7, 2)), Page("5", "8"));
        var step = UpstreamPass.After(pagesBefore: 2, rowsBefore: 4, announcedTotal: 8, lastPage: UpstreamRows(3, 2));

        await Client(handler).ContinuePassAsync(MonTag, step, maxPages: 10, default);

        // Rows on pages 1-4 could be the 8 announced: only the whole pass can count them distinct.
        Assert.Equal([3, 4], handler.Requests.Select(r => r.Page));
        Assert.Equal(PassEnd.Open, step.End);
        Assert.True(step.NeedsEarlierPages);
        Assert.Equal((4, 8), (step.PagesRead, step.RowsReadCount));
    }

    [Fact]
    public async Task A_step_compares_its_first_page_with_the_last_stored_one()
    {
        var handler = ScriptedHttpHandler.Always(_ => ScriptedHttpHandler.Json(Page(null, "8", Rows(3, 2))));
        var step = UpstreamPass.After(pagesBefore: 2, rowsBefore: 4, announcedTotal: 8, lastPage: UpstreamRows(3, 2));

        await Client(handler).ContinuePassAsync(MonTag, step, maxPages: 10, default);

        Assert.Single(handler.Requests);
        Assert.Equal(PassEnd.PagingIgnored, step.End);
    }

    [Fact]
    public async Task A_whole_pass_loaded_at_its_total_ends_without_another_call()
    {
        var handler = ScriptedHttpHandler.Pages(Page("1", "4"));
        var whole = new UpstreamPass();
        whole.Add(UpstreamRows(1, 2), 4);
        whole.Add(UpstreamRows(3, 2), 4);

        await Client(handler).ContinuePassAsync(MonTag, whole, maxPages: 0, default);

        Assert.Empty(handler.Requests);
        Assert.Equal(PassEnd.ReachedTotal, whole.End);
        Assert.True(whole.IsFull);
    }

    [Fact]
    public async Task Paging_stops_on_an_empty_page()
    {
        var handler = ScriptedHttpHandler.Pages(
            Page("1", null, Rows(1, 2)),
            Page("2", null, Rows(3, 2)),
            Page("3", null));

        var report = await Client(handler).GetStatusesByTagAsync(MonTag, default);

        Assert.Equal([1, 2, 3], handler.Requests.Select(r => r.Page));
        Assert.Equal(4, report.RowsRead.Count);
        Assert.Equal(2, report.PagesRead);
        Assert.Null(report.AnnouncedTotal);
        // Issue 12: without an announced total a pass cannot be known to be whole, so it is never full.
        Assert.False(report.IsFull);
        Assert.Equal(PassEnd.Exhausted, report.End);
    }

    [Fact]
    public async Task An_empty_answer_means_no_message_under_the_tag()
    {
        var handler = ScriptedHttpHandler.Pages(Page("1", "0"));

        var refused = await Assert.ThrowsAsync<SmsPartnerRefusedException>(() => Client(handler).GetStatusesByTagAsync(MonTag, default));

        Assert.True(refused.IsNotFound);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task Paging_stops_when_the_endpoint_ignores_page_and_the_answer_is_incomplete()
    {
        // The endpoint ignores `page`: every page is the first one again, and the total is never reached.
        var first = Page(null, "5", Rows(1, 2));
        var handler = ScriptedHttpHandler.Always(_ => ScriptedHttpHandler.Json(first));

        var report = await Client(handler).GetStatusesByTagAsync(MonTag, default);

        Assert.Equal(2, handler.Requests.Count);
        Assert.Equal(2, report.RowsRead.Count);
        Assert.Equal(5, report.AnnouncedTotal);
        Assert.Equal(1, report.PagesRead);
        Assert.False(report.IsFull);
    }

    [Fact]
    public async Task A_repeated_page_without_a_total_stops_paging_and_counts_once()
    {
        var first = Page(null, null, Rows(1, 3));
        var handler = ScriptedHttpHandler.Always(_ => ScriptedHttpHandler.Json(first));

        var report = await Client(handler).GetStatusesByTagAsync(MonTag, default);

        Assert.Equal(2, handler.Requests.Count);
        Assert.Equal(3, report.RowsRead.Count);
        // Issue 12: an endpoint that ignores page and announces no total gives a partial pass, never a full one.
        Assert.False(report.IsFull);
        Assert.Equal(PassEnd.PagingIgnored, report.End);
        Assert.Contains("page", report.PartialReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Paging_stops_when_currentPage_is_not_the_page_asked_for()
    {
        var handler = ScriptedHttpHandler.Pages(
            Page("1", "6", Rows(1, 2)),
            Page("1", "6", Rows(3, 2)));

        var report = await Client(handler).GetStatusesByTagAsync(MonTag, default);

        Assert.Equal(2, handler.Requests.Count);
        Assert.Equal(["+33600000001", "+33600000002"], report.RowsRead.Select(r => r.PhoneNumber));
        Assert.False(report.IsFull);
        Assert.Equal(1, report.PagesRead);
    }

    [Fact]
    public async Task Endless_distinct_pages_stop_at_MaxPages_with_a_bad_answer()
    {
        var handler = ScriptedHttpHandler.Always(request => ScriptedHttpHandler.Json(Page(null, null, Rows(request.Page!.Value * 10, 2))));

        var e = await Assert.ThrowsAsync<SmsPartnerBadAnswerException>(() => Client(handler, maxPages: 3).GetStatusesByTagAsync(MonTag, default));

        Assert.Equal(3, handler.Requests.Count);
        Assert.Contains("MaxPages", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_total_never_reached_stops_at_MaxPages()
    {
        var handler = ScriptedHttpHandler.Always(request => ScriptedHttpHandler.Json(Page(null, "1000000", Rows(request.Page!.Value * 10, 2))));

        await Assert.ThrowsAsync<SmsPartnerBadAnswerException>(() => Client(handler, maxPages: 4).GetStatusesByTagAsync(MonTag, default));

        Assert.Equal(4, handler.Requests.Count);
    }

    // ---- refusals ----

    [Theory]
    [InlineData(HttpStatusCode.OK, 4)]
    [InlineData(HttpStatusCode.OK, 1)]
    [InlineData(HttpStatusCode.Unauthorized, 1)]
    [InlineData(HttpStatusCode.NotFound, 4)]
    [InlineData(HttpStatusCode.BadRequest, 3)]
    public async Task Success_false_is_a_refusal_with_its_code_whatever_the_http_status(HttpStatusCode status, int code)
    {
        var handler = ScriptedHttpHandler.Always(_ => ScriptedHttpHandler.Json(Refused(code), status));

        var e = await Assert.ThrowsAsync<SmsPartnerRefusedException>(() => Client(handler).GetStatusesByTagAsync(MonTag, default));

        Assert.Equal(code, e.Code);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task A_code_other_than_200_without_success_is_a_refusal()
    {
        var handler = ScriptedHttpHandler.Always(_ => ScriptedHttpHandler.Json("""{"code":"4","message":"Message not found"}"""));

        var e = await Assert.ThrowsAsync<SmsPartnerRefusedException>(() => Client(handler).GetStatusesByTagAsync(MonTag, default));

        Assert.Equal(4, e.Code);
        Assert.True(e.IsNotFound);
    }

    [Fact]
    public async Task A_refusal_that_echoes_the_key_does_not_carry_it_into_the_exception()
    {
        var handler = ScriptedHttpHandler.Always(_ => ScriptedHttpHandler.Json(Refused(4, $"No message for key {Key}")));

        var e = await Assert.ThrowsAsync<SmsPartnerRefusedException>(() => Client(handler).GetStatusesByTagAsync(MonTag, default));

        Assert.DoesNotContain(Key, e.Message, StringComparison.Ordinal);
        Assert.Contains("code 4", e.Message, StringComparison.Ordinal);
    }

    // ---- bad answers ----

    public static TheoryData<string, string, HttpStatusCode> BadBodies => new()
    {
        { "<?xml version=\"1.0\"?><result><success>true</success></result>", "application/xml", HttpStatusCode.OK },
        { "<!DOCTYPE html><html><body>Maintenance</body></html>", "text/html", HttpStatusCode.OK },
        { "<html><body>401 Unauthorized</body></html>", "text/html", HttpStatusCode.Unauthorized },
        { """{"success":true,"code":200,"total":2,"StatutResponse_List":[{"phoneNumber":"+33""", "application/json", HttpStatusCode.OK },
        { "null", "application/json", HttpStatusCode.OK },
        { "", "application/json", HttpStatusCode.OK },
        { "[]", "application/json", HttpStatusCode.OK },
        { "{}", "application/json", HttpStatusCode.OK },
        { "\"ok\"", "application/json", HttpStatusCode.OK },
        { """{"success":true,"total":"two","StatutResponse_List":[]}""", "application/json", HttpStatusCode.OK },
        { """{"success":true,"code":200,"StatutResponse_List":[]}""", "application/json", HttpStatusCode.NotFound },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Anything_but_the_json_envelope_is_a_bad_answer(string body, string mediaType, HttpStatusCode status)
    {
        var handler = ScriptedHttpHandler.Always(_ => ScriptedHttpHandler.Text(body, mediaType, status));

        var e = await Assert.ThrowsAsync<SmsPartnerBadAnswerException>(() => Client(handler).GetStatusesByTagAsync(MonTag, default));

        Assert.DoesNotContain(Key, e.Message, StringComparison.Ordinal);
        Assert.Single(handler.Requests);
    }

    // ---- unavailable ----

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    [InlineData(HttpStatusCode.RequestTimeout)]
    public async Task Server_errors_and_throttling_are_unavailable(HttpStatusCode status)
    {
        var handler = ScriptedHttpHandler.Always(_ => ScriptedHttpHandler.Text("busy", "text/plain", status));

        var e = await Assert.ThrowsAsync<SmsPartnerUnavailableException>(() => Client(handler).GetStatusesByTagAsync(MonTag, default));

        Assert.Contains(((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task Throttling_carries_the_retry_after_delay()
    {
        var handler = ScriptedHttpHandler.Always(_ =>
        {
            var response = ScriptedHttpHandler.Text("slow down", "text/plain", HttpStatusCode.TooManyRequests);
            response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(7));
            return response;
        });

        var e = await Assert.ThrowsAsync<SmsPartnerUnavailableException>(() => Client(handler).GetStatusesByTagAsync(MonTag, default));

        Assert.Equal(TimeSpan.FromSeconds(7), e.RetryAfter);
    }

    [Fact]
    public async Task A_network_failure_is_unavailable()
    {
        var failure = new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (sim.test:443)");
        var handler = ScriptedHttpHandler.Always(_ => throw failure);

        var e = await Assert.ThrowsAsync<SmsPartnerUnavailableException>(() => Client(handler).GetStatusesByTagAsync(MonTag, default));

        Assert.Same(failure, e.InnerException);
        Assert.DoesNotContain(Key, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_timeout_that_the_caller_did_not_ask_for_is_unavailable()
    {
        var handler = ScriptedHttpHandler.Always(_ => throw new TaskCanceledException("The request timed out."));

        var e = await Assert.ThrowsAsync<SmsPartnerUnavailableException>(() => Client(handler).GetStatusesByTagAsync(MonTag, default));

        Assert.Contains("timed out", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_caller_cancellation_is_not_turned_into_unavailable()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var handler = ScriptedHttpHandler.Pages(Page("1", "1", Rows(1, 1)));

        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Client(handler).GetStatusesByTagAsync(MonTag, cancelled.Token));

        Assert.IsNotType<SmsPartnerUnavailableException>(e);
    }

    // ---- escaping ----

    [Fact]
    public async Task Tag_and_key_are_escaped_in_the_query()
    {
        const string awkwardKey = "k+y/=&";
        _secrets.Setup(s => s.GetAsync(AppSecret.SmsPartnerApiKey, It.IsAny<CancellationToken>())).Returns(() => new ValueTask<string>(awkwardKey));
        var handler = ScriptedHttpHandler.Pages(Page("1", "1", Rows(1, 1)));

        await Client(handler).GetStatusesByTagAsync(Tag.Parse("a&b=c#d"), default);

        var request = Assert.Single(handler.Requests);
        Assert.Equal(awkwardKey, request.ApiKey);
        Assert.Equal("a&b=c#d", request.Tag);
        Assert.Equal("1", request.Query["page"]);
        Assert.Equal(new string?[] { "apiKey", "tag", "page" }, request.Query.AllKeys.AsEnumerable());
        Assert.Equal(string.Empty, request.Uri.Fragment);
        Assert.Contains("apiKey=k%2By%2F%3D%26&", request.Uri.Query, StringComparison.Ordinal);
        Assert.Contains("tag=a%26b%3Dc%23d&", request.Uri.Query, StringComparison.Ordinal);
    }

    // ---- key rotation ----

    [Fact]
    public async Task An_invalid_key_is_re_read_once_and_the_call_retried_with_the_new_key()
    {
        _secrets.Setup(s => s.RefreshAsync(AppSecret.SmsPartnerApiKey, Key, It.IsAny<CancellationToken>())).Returns(() => new ValueTask<string>(RotatedKey));
        var handler = ScriptedHttpHandler.Always(request => request.ApiKey == RotatedKey
            ? ScriptedHttpHandler.Json(Page("1", "1", Rows(1, 1)))
            : ScriptedHttpHandler.Json(Refused(10, "Invalid API key"), HttpStatusCode.Unauthorized));

        var report = await Client(handler).GetStatusesByTagAsync(MonTag, default);

        Assert.Single(report.RowsRead);
        Assert.Equal([Key, RotatedKey], handler.Requests.Select(r => r.ApiKey));
        _secrets.Verify(s => s.RefreshAsync(AppSecret.SmsPartnerApiKey, Key, It.IsAny<CancellationToken>()), Times.Once);
        _secrets.Verify(s => s.RefreshAsync(It.IsAny<AppSecret>(), It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_rotated_key_that_is_also_refused_fails_with_code_10_after_one_re_read()
    {
        _secrets.Setup(s => s.RefreshAsync(AppSecret.SmsPartnerApiKey, Key, It.IsAny<CancellationToken>())).Returns(() => new ValueTask<string>(RotatedKey));
        var handler = ScriptedHttpHandler.Always(_ => ScriptedHttpHandler.Json(Refused(10, "Invalid API key")));

        var e = await Assert.ThrowsAsync<SmsPartnerRefusedException>(() => Client(handler).GetStatusesByTagAsync(MonTag, default));

        Assert.Equal(SmsPartnerRefusedException.InvalidApiKey, e.Code);
        Assert.True(e.IsKeyRefused);
        Assert.Equal([Key, RotatedKey], handler.Requests.Select(r => r.ApiKey));
        _secrets.Verify(s => s.RefreshAsync(It.IsAny<AppSecret>(), It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Once);
        Assert.DoesNotContain(Key, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(RotatedKey, e.Message, StringComparison.Ordinal);
        AssertNoKeyLogged();
    }

    [Fact]
    public async Task A_re_read_that_gives_the_same_key_makes_no_second_call()
    {
        _secrets.Setup(s => s.RefreshAsync(AppSecret.SmsPartnerApiKey, Key, It.IsAny<CancellationToken>())).Returns(() => new ValueTask<string>(Key));
        var handler = ScriptedHttpHandler.Always(_ => ScriptedHttpHandler.Json(Refused(10, "Invalid API key")));

        var e = await Assert.ThrowsAsync<SmsPartnerRefusedException>(() => Client(handler).GetStatusesByTagAsync(MonTag, default));

        Assert.Equal(10, e.Code);
        Assert.Single(handler.Requests);
        _secrets.Verify(s => s.RefreshAsync(AppSecret.SmsPartnerApiKey, Key, It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task Other_refusals_do_not_re_read_the_key()
    {
        var handler = ScriptedHttpHandler.Always(_ => ScriptedHttpHandler.Json(Refused(4, "Message not found")));

        await Assert.ThrowsAsync<SmsPartnerRefusedException>(() => Client(handler).GetStatusesByTagAsync(MonTag, default));

        _secrets.Verify(s => s.RefreshAsync(It.IsAny<AppSecret>(), It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task A_key_refused_on_a_later_page_is_re_read_and_paging_goes_on_from_that_page()
    {
        _secrets.Setup(s => s.RefreshAsync(AppSecret.SmsPartnerApiKey, Key, It.IsAny<CancellationToken>())).Returns(() => new ValueTask<string>(RotatedKey));
        var handler = ScriptedHttpHandler.Always(request => (request.ApiKey, request.Page) switch
        {
            (Key, 1) => ScriptedHttpHandler.Json(Page("1", "3", Rows(1, 2))),
            (Key, _) => ScriptedHttpHandler.Json(Refused(10)),
            (_, 1) => ScriptedHttpHandler.Json(Page("1", "3", Rows(1, 2))),
            _ => ScriptedHttpHandler.Json(Page("2", "3", Rows(3, 1))),
        });

        var report = await Client(handler).GetStatusesByTagAsync(MonTag, default);

        Assert.Equal(3, report.RowsRead.Count);
        Assert.True(report.IsFull);
        // The pages read before the refusal stay in the pass (a big tag read in steps keeps its progress the same way).
        Assert.Equal([(Key, 1), (Key, 2), (RotatedKey, 2)], handler.Requests.Select(r => (r.ApiKey, r.Page!.Value)));
    }

    // ---- the key never leaks ----

    public static TheoryData<string, HttpStatusCode> Failures => new()
    {
        { Refused(4, "Unknown tag for " + Key), HttpStatusCode.OK },
        { Refused(1, Key), HttpStatusCode.BadRequest },
        { "<html>" + Key + "</html>", HttpStatusCode.OK },
        { "{\"success\":tru" + Key, HttpStatusCode.OK },
        { Key, HttpStatusCode.InternalServerError },
        { Key, HttpStatusCode.TooManyRequests },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task No_exception_message_or_log_holds_the_api_key(string body, HttpStatusCode status)
    {
        var handler = ScriptedHttpHandler.Always(_ => ScriptedHttpHandler.Text(body, "application/json", status));

        var e = await Assert.ThrowsAnyAsync<SmsPartnerException>(() => Client(handler).GetStatusesByTagAsync(MonTag, default));

        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            Assert.DoesNotContain(Key, current.Message, StringComparison.Ordinal);
        }

        AssertNoKeyLogged();
    }
}
