using System.Text;
using System.Text.Json.Nodes;
using System.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Moq;
using TagStatus.Api.Handlers;
using TagStatus.Core.Domain;
using TagStatus.Core.Lookup;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.Storage;
using TagStatus.Tests.Support;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Api;

public sealed class TagLookupHandlerTests
{
    private const string Host = "tags.example.net";
    private static readonly DateTimeOffset StatusAt = new(2018, 2, 7, 7, 38, 31, TimeSpan.Zero);

    private readonly LookupFixture _f = new();

    private sealed record Answer(int Status, IHeaderDictionary Headers, string Body)
    {
        public string? ContentType => Headers.ContentType;

        public JsonNode Json => JsonNode.Parse(Body) ?? throw new InvalidOperationException("null body");
    }

    private async Task<Answer> GetAsync(string tag, string query = "", Action<HttpRequest>? configure = null, LookupOptions? options = null)
    {
        var handler = new TagLookupHandler(_f.Lookup, Options.Create(options ?? new LookupOptions()));
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Scheme = "https";
        context.Request.Host = new HostString(Host);
        context.Request.Path = "/api/tags/" + Uri.EscapeDataString(tag);
        context.Request.QueryString = new QueryString(query);
        configure?.Invoke(context.Request);
        var body = new MemoryStream();
        context.Response.Body = body;

        var result = await handler.GetAsync(context.Request, tag, default);
        await result.ExecuteResultAsync(new ActionContext { HttpContext = context });

        return new Answer(context.Response.StatusCode, context.Response.Headers, Encoding.UTF8.GetString(body.ToArray()));
    }

    /// <summary>The tag of the contract's example: complete, two delivered, refreshed at 10:00 (now).</summary>
    private void StoreTheContractExample() =>
        _f.Stored(TagState.Complete, _f.Now,
        [
            Recipient("+336XXXXXXX1", DeliveryStatus.Delivered, statusAt: StatusAt),
            Recipient("+336XXXXXXX2", DeliveryStatus.Delivered, statusAt: StatusAt.AddSeconds(60)),
        ], tracked: true);

    private void StoreMixed(string tag = "montag") =>
        _f.Stored(TagState.Pending, _f.Now,
        [
            Recipient("+33600000001", DeliveryStatus.Delivered, statusAt: StatusAt),
            Recipient("+33600000002", DeliveryStatus.Waiting),
            Recipient("+33600000003", DeliveryStatus.Delivered, stopSms: true, statusAt: StatusAt),
            Recipient("+33600000004", DeliveryStatus.NotDelivered, statusAt: StatusAt),
            Recipient("+33600000005", DeliveryStatus.Unknown),
        ]);

    // ---- 200 ----

    [Fact]
    public async Task Get_answers_the_json_shape_of_the_contract()
    {
        StoreTheContractExample();

        var answer = await GetAsync("montag");

        Assert.Equal(200, answer.Status);
        Assert.Equal("application/json; charset=utf-8", answer.ContentType);
        var expected = JsonNode.Parse("""
            {
              "refreshing": false,
              "tag": "montag",
              "state": "complete",
              "tracked": true,
              "counts": { "total": 2, "delivered": 2, "notDelivered": 0, "waiting": 0, "unknown": 0, "optedOut": 0 },
              "deliveryRate": 1,
              "firstSeenAt": "2026-11-27T09:00:00Z",
              "refreshedAt": "2026-11-27T10:00:00Z",
              "completedAt": "2026-11-27T09:05:00Z",
              "nextRefreshAt": null,
              "source": "store",
              "stale": false,
              "upstreamTotal": 2,
              "partial": false,
              "partialReason": null,
              "recipients": [
                { "phoneNumber": "+336XXXXXXX1", "status": "delivered", "stopSms": false, "statusAt": "2018-02-07T07:38:31Z" },
                { "phoneNumber": "+336XXXXXXX2", "status": "delivered", "stopSms": false, "statusAt": "2018-02-07T07:39:31Z" }
              ],
              "nextLink": null
            }
            """);
        Assert.True(JsonNode.DeepEquals(expected, answer.Json), answer.Body);
    }

    [Fact]
    public async Task Get_carries_a_weak_etag_and_varies_on_accept()
    {
        StoreTheContractExample();

        var answer = await GetAsync("montag");

        Assert.Matches("^W/\"[0-9a-f]{32}\"$", answer.Headers.ETag.ToString());
        Assert.Equal("Accept", answer.Headers.Vary.ToString());
    }

    [Fact]
    public async Task Get_says_live_when_it_read_sms_partner()
    {
        _f.Upstream(Upstream("+33600000001", "Waiting", statusAt: null), Upstream("+33600000002", "Queued"));

        var answer = await GetAsync("montag");

        var json = answer.Json;
        Assert.Equal("live", (string?)json["source"]);
        Assert.Equal("pending", (string?)json["state"]);
        Assert.True((bool?)json["tracked"]);
        Assert.Null(json["completedAt"]);
        Assert.Equal("2026-11-27T10:01:00Z", (string?)json["nextRefreshAt"]);
        Assert.Equal(0.0, (double?)json["deliveryRate"]);
        Assert.Equal(["waiting", "unknown"], json["recipients"]!.AsArray().Select(r => (string?)r!["status"]));
        Assert.Null(json["recipients"]![0]!["statusAt"]);
    }

    [Fact]
    public async Task Get_says_stale_when_sms_partner_failed_and_the_store_answered()
    {
        _f.Stored(TagState.Pending, _f.Now.AddHours(-1), [Recipient("+33600000001", DeliveryStatus.Waiting)]);
        _f.UpstreamFails(new SmsPartnerUnavailableException("down"));

        var answer = await GetAsync("montag");

        Assert.Equal(200, answer.Status);
        Assert.True((bool?)answer.Json["stale"]);
        Assert.Equal("store", (string?)answer.Json["source"]);
    }

    [Fact]
    public async Task Counts_cover_the_whole_tag_whatever_the_filter_and_page()
    {
        StoreMixed();

        var first = await GetAsync("montag", "?status=delivered&pageSize=1");
        var answer = await GetAsync("montag", new Uri((string)first.Json["nextLink"]!).Query);

        var json = answer.Json;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"total":5,"delivered":2,"notDelivered":1,"waiting":1,"unknown":1,"optedOut":1}"""), json["counts"]));
        Assert.Equal(0.4, (double?)json["deliveryRate"]);
        var only = Assert.Single(json["recipients"]!.AsArray());
        Assert.Equal("+33600000003", (string?)only!["phoneNumber"]);
        Assert.True((bool?)only["stopSms"]);
    }

    [Fact]
    public async Task Status_filter_takes_a_comma_separated_list()
    {
        StoreMixed();

        var answer = await GetAsync("montag", "?status=waiting,%20unknown");

        Assert.Equal(["+33600000002", "+33600000005"], answer.Json["recipients"]!.AsArray().Select(r => (string?)r!["phoneNumber"]));
    }

    [Fact]
    public async Task The_opt_out_filter_lists_who_answered_STOP_or_everyone_else_and_its_next_link_keeps_it()
    {
        StoreMixed();

        var optedOut = await GetAsync("montag", "?stopSms=true");
        var others = await GetAsync("montag", "?stopSms=false&pageSize=2");
        var rest = await GetAsync("montag", new Uri((string)others.Json["nextLink"]!).Query);
        var csv = await GetAsync("montag", "?stopSms=TRUE", r => r.Headers.Accept = "text/csv");

        Assert.Equal(["+33600000003"], optedOut.Json["recipients"]!.AsArray().Select(r => (string?)r!["phoneNumber"]));
        Assert.Equal("false", HttpUtility.ParseQueryString(new Uri((string)others.Json["nextLink"]!).Query)["stopSms"]);
        Assert.Equal(
            ["+33600000001", "+33600000002", "+33600000004", "+33600000005"],
            others.Json["recipients"]!.AsArray().Concat(rest.Json["recipients"]!.AsArray()).Select(r => (string?)r!["phoneNumber"]));
        Assert.Equal(2, csv.Body.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length); // the header and +33600000003
        Assert.Contains("+33600000003,delivered,true,", csv.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recipients_are_paged_with_an_absolute_next_link_that_drops_the_function_key()
    {
        StoreMixed();

        var first = await GetAsync("montag", "?pageSize=2&code=FUNCTION-KEY-XYZ&status=delivered,waiting,notDelivered");

        Assert.Equal(["+33600000001", "+33600000002"], first.Json["recipients"]!.AsArray().Select(r => (string?)r!["phoneNumber"]));
        var nextLink = (string?)first.Json["nextLink"];
        Assert.NotNull(nextLink);
        Assert.DoesNotContain("FUNCTION-KEY-XYZ", nextLink, StringComparison.Ordinal);
        var next = new Uri(nextLink, UriKind.Absolute);
        Assert.Equal($"https://{Host}/api/tags/montag", next.GetLeftPart(UriPartial.Path));
        var query = HttpUtility.ParseQueryString(next.Query);
        Assert.False(string.IsNullOrEmpty(query["continuationToken"]));
        Assert.Null(query["page"]);
        Assert.Equal("2", query["pageSize"]);
        Assert.Equal("delivered,waiting,notDelivered", query["status"]);
        Assert.Null(query["code"]);

        var second = await GetAsync("montag", next.Query + "&code=FUNCTION-KEY-XYZ");

        Assert.Equal(["+33600000003", "+33600000004"], second.Json["recipients"]!.AsArray().Select(r => (string?)r!["phoneNumber"]));
        Assert.Null((string?)second.Json["nextLink"]);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, JsonValueKind(second.Json, "nextLink"));
    }

    private static System.Text.Json.JsonValueKind JsonValueKind(JsonNode node, string property) =>
        node.AsObject().TryGetPropertyValue(property, out var value) ? value?.GetValueKind() ?? System.Text.Json.JsonValueKind.Null : System.Text.Json.JsonValueKind.Undefined;

    [Fact]
    public async Task The_last_full_page_has_no_next_link()
    {
        StoreMixed();

        var answer = await GetAsync("montag", "?pageSize=5");

        Assert.Equal(5, answer.Json["recipients"]!.AsArray().Count);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, JsonValueKind(answer.Json, "nextLink"));
    }

    [Theory]
    [InlineData("?continuationToken=garbage")]
    [InlineData("?continuationToken=v1.MTA.AAAAAAAAAAAAAAAA")]
    public async Task A_continuation_token_the_service_did_not_write_is_400_before_anything_is_read(string query)
    {
        StoreMixed();

        var answer = await GetAsync("montag", query);

        Assert.Equal(400, answer.Status);
        Assert.Equal("continuationToken", (string?)answer.Json["parameter"]);
        _f.Store.Verify(s => s.GetSummaryAsync(It.IsAny<Tag>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Page_one_is_still_taken_and_any_other_page_points_to_next_link()
    {
        StoreMixed();

        var first = await GetAsync("montag", "?page=1");
        var third = await GetAsync("montag", "?page=3");

        Assert.Equal(200, first.Status);
        Assert.Equal(400, third.Status);
        Assert.Contains("nextLink", (string?)third.Json["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Storage_failing_on_the_page_read_is_503()
    {
        StoreMixed();
        _f.Store.Setup(s => s.GetRecipientPageAsync(It.IsAny<Tag>(), It.IsAny<RecipientFilter?>(), It.IsAny<int>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreUnavailableException("down"));

        var answer = await GetAsync("montag");

        Assert.Equal(503, answer.Status);
        Assert.NotEmpty(answer.Headers.RetryAfter.ToString());
    }

    [Fact]
    public async Task A_304_reads_no_recipient_row()
    {
        StoreMixed();
        var first = await GetAsync("montag");
        _f.Store.Invocations.Clear();

        var again = await GetAsync("montag", configure: r => r.Headers.IfNoneMatch = first.Headers.ETag.ToString());

        Assert.Equal(304, again.Status);
        _f.Store.Verify(s => s.GetRecipientPageAsync(It.IsAny<Tag>(), It.IsAny<RecipientFilter?>(), It.IsAny<int>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()), Times.Never);
        _f.Store.Verify(s => s.ReadRecipientsAsync(It.IsAny<Tag>(), It.IsAny<RecipientRange>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task A_stored_answer_while_another_request_reads_the_tag_says_refreshing()
    {
        _f.Stored(TagState.Pending, _f.Now.AddHours(-1), [Recipient("+33600000001", DeliveryStatus.Waiting)]);
        _f.Store.Setup(s => s.TryClaimRefreshAsync(It.IsAny<Tag>(), It.IsAny<DateTimeOffset>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>())).ReturnsAsync((RefreshClaim?)null);

        var answer = await GetAsync("montag");

        Assert.Equal(200, answer.Status);
        Assert.True((bool?)answer.Json["refreshing"]);
        Assert.False((bool?)answer.Json["stale"]);
        _f.VerifyNoUpstreamCall();
    }

    [Fact]
    public async Task Nothing_stored_while_another_request_reads_the_tag_is_202_with_location_and_retry_after()
    {
        _f.Store.Setup(s => s.TryClaimRefreshAsync(It.IsAny<Tag>(), It.IsAny<DateTimeOffset>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>())).ReturnsAsync((RefreshClaim?)null);

        var answer = await GetAsync("montag", "?code=FUNCTION-KEY-XYZ");

        Assert.Equal(202, answer.Status);
        Assert.Equal($"https://{Host}/api/tags/montag/completion?code=FUNCTION-KEY-XYZ", answer.Headers.Location.ToString());
        Assert.True(int.Parse(answer.Headers.RetryAfter.ToString(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
    }

    [Fact]
    public async Task Recipients_default_to_pages_of_100()
    {
        _f.Stored(TagState.Complete, _f.Now, Enumerable.Range(0, 101).Select(i => Recipient($"+336{i:D8}", DeliveryStatus.Delivered)).ToList());

        var answer = await GetAsync("montag");

        Assert.Equal(100, answer.Json["recipients"]!.AsArray().Count);
        Assert.NotNull((string?)answer.Json["nextLink"]);
    }

    // ---- maxAge ----

    [Fact]
    public async Task MaxAge_zero_reads_sms_partner()
    {
        StoreTheContractExample();
        _f.Upstream(Upstream("+336XXXXXXX1", "Delivered"), Upstream("+336XXXXXXX2", "Delivered"));

        var answer = await GetAsync("montag", "?maxAge=0");

        Assert.Equal("live", (string?)answer.Json["source"]);
    }

    [Theory]
    [InlineData(60, "store")]
    [InlineData(10, "live")]
    public async Task Without_maxAge_the_configured_default_applies(int defaultMaxAge, string source)
    {
        _f.Stored(TagState.Pending, _f.Now.AddSeconds(-30), [Recipient("+33600000001", DeliveryStatus.Waiting)]);
        _f.Upstream(Upstream("+33600000001", "Waiting"));

        var answer = await GetAsync("montag", options: new LookupOptions { DefaultMaxAge = defaultMaxAge });

        Assert.Equal(source, (string?)answer.Json["source"]);
    }

    // ---- 400 ----

    [Theory]
    [InlineData("MonTag", "", "tag", "lowercase")]
    [InlineData("abcdefghijklmnopqrstu", "", "tag", "at most 20")]
    [InlineData("mon tag", "", "tag", "spaces")]
    [InlineData("", "", "tag", "required")]
    [InlineData("montag", "?maxAge=-1", "maxAge", "'maxAge' must be a whole number from 0 to 604800")]
    [InlineData("montag", "?maxAge=abc", "maxAge", "'maxAge' must be a whole number")]
    [InlineData("montag", "?maxAge=1.5", "maxAge", "'maxAge' must be a whole number")]
    [InlineData("montag", "?page=0", "page", "'page' is no longer taken")]
    [InlineData("montag", "?pageSize=1001", "pageSize", "'pageSize' must be a whole number from 1 to 1000")]
    [InlineData("montag", "?pageSize=0", "pageSize", "'pageSize' must be a whole number from 1 to 1000")]
    [InlineData("montag", "?page=1&page=2", "page", "'page' is no longer taken")]
    [InlineData("montag", "?status=bogus", "status", "'bogus' is not one")]
    [InlineData("montag", "?status=delivered,Waiting", "status", "'Waiting' is not one")]
    [InlineData("montag", "?stopSms=yes", "stopSms", "'stopSms' must be true or false")]
    [InlineData("montag", "?stopSms=true&stopSms=false", "stopSms", "'stopSms' must be true or false")]
    public async Task A_bad_request_is_a_problem_document_that_names_the_rule(string tag, string query, string parameter, string rule)
    {
        var answer = await GetAsync(tag, query);

        Assert.Equal(400, answer.Status);
        Assert.Equal("application/problem+json; charset=utf-8", answer.ContentType);
        var json = answer.Json;
        Assert.False(string.IsNullOrWhiteSpace((string?)json["type"]));
        Assert.False(string.IsNullOrWhiteSpace((string?)json["title"]));
        Assert.Equal(400, (int?)json["status"]);
        Assert.Contains(rule, (string?)json["detail"], StringComparison.OrdinalIgnoreCase);
        Assert.Equal(parameter, (string?)json["parameter"]);
        Assert.Null(json["upstreamCode"]);
        _f.Store.VerifyNoOtherCalls();
        _f.VerifyNoUpstreamCall();
    }

    // ---- 404, 502, 503 ----

    [Fact]
    public async Task A_tag_sms_partner_does_not_know_with_nothing_stored_is_404()
    {
        _f.UpstreamFails(new SmsPartnerRefusedException(4, "Message not found"));

        var answer = await GetAsync("montag");

        Assert.Equal(404, answer.Status);
        Assert.Equal("application/problem+json; charset=utf-8", answer.ContentType);
        Assert.Equal(404, (int?)answer.Json["status"]);
        Assert.Contains("montag", (string?)answer.Json["detail"], StringComparison.Ordinal);
        Assert.False(answer.Json.AsObject().ContainsKey("upstreamCode"));
    }

    [Fact]
    public async Task A_refusal_is_502_with_the_upstream_code()
    {
        _f.UpstreamFails(new SmsPartnerRefusedException(10, "Invalid API key"));

        var answer = await GetAsync("montag");

        Assert.Equal(502, answer.Status);
        Assert.Equal("application/problem+json; charset=utf-8", answer.ContentType);
        Assert.Equal(502, (int?)answer.Json["status"]);
        Assert.Equal(10, (int?)answer.Json["upstreamCode"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)answer.Json["type"]));
        Assert.False(string.IsNullOrWhiteSpace((string?)answer.Json["title"]));
        Assert.False(string.IsNullOrWhiteSpace((string?)answer.Json["detail"]));
    }

    [Fact]
    public async Task A_garbage_answer_is_502_without_an_upstream_code()
    {
        _f.UpstreamFails(new SmsPartnerBadAnswerException("HTML"));

        var answer = await GetAsync("montag");

        Assert.Equal(502, answer.Status);
        Assert.False(answer.Json.AsObject().ContainsKey("upstreamCode"));
    }

    [Fact]
    public async Task Sms_partner_unreachable_is_503_with_retry_after()
    {
        _f.UpstreamFails(new SmsPartnerUnavailableException("down", TimeSpan.FromSeconds(6.2)));

        var answer = await GetAsync("montag");

        Assert.Equal(503, answer.Status);
        Assert.Equal("application/problem+json; charset=utf-8", answer.ContentType);
        Assert.Equal("7", answer.Headers.RetryAfter.ToString());
        Assert.Equal(503, (int?)answer.Json["status"]);
    }

    [Fact]
    public async Task Storage_unreachable_is_503_with_retry_after()
    {
        _f.Store.Setup(s => s.GetSummaryAsync(It.IsAny<Tag>(), It.IsAny<CancellationToken>())).ThrowsAsync(new StoreUnavailableException("down"));

        var answer = await GetAsync("montag");

        Assert.Equal(503, answer.Status);
        Assert.Equal("30", answer.Headers.RetryAfter.ToString());
    }

    // ---- conditional requests ----

    [Fact]
    public async Task If_None_Match_with_the_etag_answers_304_with_no_body()
    {
        StoreTheContractExample();
        var first = await GetAsync("montag");
        var etag = first.Headers.ETag.ToString();

        var second = await GetAsync("montag", configure: r => r.Headers.IfNoneMatch = etag);

        Assert.Equal(304, second.Status);
        Assert.Equal(string.Empty, second.Body);
        Assert.Equal(etag, second.Headers.ETag.ToString());
    }

    [Theory]
    [InlineData("*")]
    [InlineData("\"other\", {0}")]
    [InlineData("{1}")]
    public async Task If_None_Match_accepts_lists_wildcards_and_the_strong_form(string header)
    {
        StoreTheContractExample();
        var etag = (await GetAsync("montag")).Headers.ETag.ToString();

        var answer = await GetAsync("montag", configure: r => r.Headers.IfNoneMatch = string.Format(System.Globalization.CultureInfo.InvariantCulture, header, etag, etag[2..]));

        Assert.Equal(304, answer.Status);
    }

    [Fact]
    public async Task If_None_Match_with_another_etag_answers_200()
    {
        StoreTheContractExample();

        var answer = await GetAsync("montag", configure: r => r.Headers.IfNoneMatch = "W/\"0123456789abcdef0123456789abcdef\"");

        Assert.Equal(200, answer.Status);
        Assert.NotEmpty(answer.Body);
    }

    [Fact]
    public async Task The_etag_is_the_same_whether_the_unchanged_tag_came_live_or_from_the_store()
    {
        StoreTheContractExample();
        _f.Upstream(Upstream("+336XXXXXXX1", "Delivered", statusAt: StatusAt), Upstream("+336XXXXXXX2", "Delivered", statusAt: StatusAt.AddSeconds(60)));
        var fromStore = await GetAsync("montag");

        var live = await GetAsync("montag", "?maxAge=0", r => r.Headers.IfNoneMatch = fromStore.Headers.ETag.ToString());

        _f.VerifyOneUpstreamRead();
        Assert.Equal(304, live.Status);
    }

    [Fact]
    public async Task The_etag_changes_with_the_page_and_the_filter()
    {
        StoreMixed();

        var etags = new[]
        {
            (await GetAsync("montag", "?pageSize=2")).Headers.ETag.ToString(),
            (await GetAsync("montag", "?pageSize=2&page=2")).Headers.ETag.ToString(),
            (await GetAsync("montag", "?pageSize=2&status=waiting")).Headers.ETag.ToString(),
            (await GetAsync("montag", "?pageSize=2&stopSms=true")).Headers.ETag.ToString(),
            (await GetAsync("montag", "?pageSize=2&stopSms=false")).Headers.ETag.ToString(),
            (await GetAsync("montag", "?pageSize=2", r => r.Headers.Accept = "text/csv")).Headers.ETag.ToString(),
            (await GetAsync("montag", "?pageSize=2&stopSms=true", r => r.Headers.Accept = "text/csv")).Headers.ETag.ToString(),
        };

        Assert.Equal(etags.Length, etags.Distinct().Count());
    }

    // ---- Retention ----

    [Theory]
    [InlineData("application/json")]
    [InlineData("text/csv")]
    public async Task An_expired_tags_recipients_answer_410_with_a_problem_document(string accept)
    {
        StoreTheContractExample();
        _f.Store.Setup(s => s.GetRecipientPageAsync(It.IsAny<Tag>(), It.IsAny<RecipientFilter?>(), It.IsAny<int>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new RecipientsExpiredException("montag", "202411"));

        var answer = await GetAsync("montag", configure: r => r.Headers.Accept = accept);

        Assert.Equal(410, answer.Status);
        Assert.Equal("urn:tag-status:problem:recipients-expired", (string?)answer.Json["type"]);
        Assert.Contains("/api/tags/montag/completion", (string?)answer.Json["detail"], StringComparison.Ordinal);
    }

    // ---- CSV ----

    [Fact]
    public async Task Accept_text_csv_returns_every_matching_recipient_unpaged()
    {
        StoreMixed();

        var answer = await GetAsync("montag", "?pageSize=1&status=delivered,notDelivered,waiting", r => r.Headers.Accept = "text/csv");

        Assert.Equal(200, answer.Status);
        Assert.Equal("text/csv; charset=utf-8", answer.ContentType);
        Assert.Equal(
            "phoneNumber,status,stopSms,statusAt\r\n" +
            "+33600000001,delivered,false,2018-02-07T07:38:31Z\r\n" +
            "+33600000002,waiting,false,\r\n" +
            "+33600000003,delivered,true,2018-02-07T07:38:31Z\r\n" +
            "+33600000004,notDelivered,false,2018-02-07T07:38:31Z\r\n",
            answer.Body);
    }

    [Fact]
    public async Task Csv_quotes_a_value_holding_a_comma_or_a_quote()
    {
        _f.Stored(TagState.Complete, _f.Now,
        [
            Recipient("+33600,0001", DeliveryStatus.Delivered, statusAt: StatusAt),
            Recipient("+33600\"0002", DeliveryStatus.NotDelivered),
        ]);

        var answer = await GetAsync("montag", configure: r => r.Headers.Accept = "text/csv");

        var lines = answer.Body.Split("\r\n");
        Assert.Equal("phoneNumber,status,stopSms,statusAt", lines[0]);
        Assert.Equal("\"+33600\"\"0002\",notDelivered,false,", lines[1]);
        Assert.Equal("\"+33600,0001\",delivered,false,2018-02-07T07:38:31Z", lines[2]);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("*/*")]
    [InlineData("application/json, text/csv;q=0.5")]
    public async Task Json_is_answered_unless_csv_is_preferred(string accept)
    {
        StoreMixed();

        var answer = await GetAsync("montag", configure: r => r.Headers.Accept = accept);

        Assert.Equal("application/json; charset=utf-8", answer.ContentType);
    }

    [Fact]
    public async Task A_304_for_csv_needs_the_csv_etag()
    {
        StoreMixed();
        var csv = await GetAsync("montag", configure: r => r.Headers.Accept = "text/csv");

        var json = await GetAsync("montag", configure: r => r.Headers.IfNoneMatch = csv.Headers.ETag.ToString());
        var csvAgain = await GetAsync("montag", configure: r => { r.Headers.Accept = "text/csv"; r.Headers.IfNoneMatch = csv.Headers.ETag.ToString(); });

        Assert.Equal(200, json.Status);
        Assert.Equal(304, csvAgain.Status);
    }
}
