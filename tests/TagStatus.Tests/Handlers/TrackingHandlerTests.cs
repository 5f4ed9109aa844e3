using System.Text;
using Azure;
using Microsoft.AspNetCore.Http;
using Moq;
using TagStatus.Core.Domain;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.Storage;
using TagStatus.Tests.Support;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Handlers;

public sealed class TrackingHandlerTests
{
    private const string CompletionUrl = "https://tags.example.net/api/tags/montag/completion";
    private static readonly Tag MonTag = LookupFixture.MonTag;

    private readonly HandlerHarness _h = new();

    private LookupFixture F => _h.F;

    private async Task<Answer> PostAsync(string? body, string query = "", bool sendContentLength = true)
    {
        var context = HandlerHarness.Request("POST", "/api/tags", query, body, sendContentLength);
        return await HandlerHarness.ExecuteAsync(context, await _h.TrackingHandler.RegisterAsync(context.Request, default));
    }

    private async Task<Answer> DeleteAsync(string tag)
    {
        var context = HandlerHarness.Request("DELETE", "/api/tags/" + Uri.EscapeDataString(tag));
        return await HandlerHarness.ExecuteAsync(context, await _h.TrackingHandler.UntrackAsync(tag, default));
    }

    private async Task<Answer> ListAsync(string query = "")
    {
        var context = HandlerHarness.Request("GET", "/api/tags", query);
        return await HandlerHarness.ExecuteAsync(context, await _h.TrackingHandler.ListAsync(context.Request, default));
    }

    private async Task<Answer> CompletionAsync(string tag, string query = "")
    {
        var context = HandlerHarness.Request("GET", "/api/tags/" + Uri.EscapeDataString(tag) + "/completion", query);
        return await HandlerHarness.ExecuteAsync(context, await _h.TrackingHandler.CompletionAsync(context.Request, tag, default));
    }

    private void StoreSummary(TagState state, bool tracked = true, DateTimeOffset? nextRefreshAt = null)
    {
        var counts = state == TagState.Pending ? new TagCounts(2, 1, 0, 1, 0) : new TagCounts(2, 2, 0, 0, 0);
        var summary = Summary("montag", state, counts, T0, T0.AddMinutes(50), tracked, state == TagState.Complete ? T0.AddMinutes(5) : null, nextRefreshAt);
        F.Store.Setup(s => s.GetSummaryAsync(MonTag, It.IsAny<CancellationToken>())).ReturnsAsync(new StoredSummary(summary, new ETag("s1")));
    }

    private void StorageDown() =>
        F.Store.Setup(s => s.GetSummaryAsync(It.IsAny<Tag>(), It.IsAny<CancellationToken>())).ThrowsAsync(new StoreUnavailableException("down"));

    private void VerifyNothingTouched()
    {
        F.Store.Verify(s => s.GetSummaryAsync(It.IsAny<Tag>(), It.IsAny<CancellationToken>()), Times.Never);
        F.VerifyNoUpstreamCall();
    }

    // ---- POST /api/tags ----

    [Fact]
    public async Task Registering_answers_202_with_the_absolute_completion_location_and_retry_after()
    {
        F.Upstream(Upstream("+33600000001", "Delivered"), Upstream("+33600000002", "Waiting"));

        var answer = await PostAsync("""{ "tag": "montag" }""");

        Assert.Equal(202, answer.Status);
        Assert.Equal(CompletionUrl, answer.Location);
        Assert.Equal("60", answer.RetryAfter);   // a new tag is refreshed every minute
        Assert.Equal("application/json; charset=utf-8", answer.ContentType);
        Assert.Equal("montag", (string?)answer.Json["tag"]);
        Assert.Equal("pending", (string?)answer.Json["state"]);
        Assert.True((bool?)answer.Json["tracked"]);
        Assert.Equal(2, (int?)answer.Json["counts"]!["total"]);
        Assert.Null(answer.Json["recipients"]);
        Assert.True(Assert.Single(F.Saved).Summary.Tracked);
    }

    [Fact]
    public async Task A_tag_with_url_characters_is_escaped_in_the_location()
    {
        var tag = Tag.Parse("a/b?c#d");
        F.Client.Setup(c => c.GetStatusesByTagAsync(tag, It.IsAny<CancellationToken>()))
            .ReturnsAsync(UpstreamPass.OnePage([Upstream("+33600000001", "Waiting")], 1));

        var answer = await PostAsync("""{ "tag": "a/b?c#d" }""");

        Assert.Equal(202, answer.Status);
        Assert.Equal("https://tags.example.net/api/tags/a%2Fb%3Fc%23d/completion", answer.Location);
    }

    [Fact]
    public async Task A_caller_keyed_by_query_gets_its_key_back_on_the_location_and_nothing_else()
    {
        F.Upstream(Upstream("+33600000001", "Waiting"));

        var answer = await PostAsync("""{ "tag": "montag" }""", "?code=fn-key&other=1");

        Assert.Equal(CompletionUrl + "?code=fn-key", answer.Location);
    }

    [Fact]
    public async Task Registering_a_tag_not_yet_known_upstream_still_answers_202_due_now()
    {
        F.UpstreamFails(new SmsPartnerRefusedException(SmsPartnerRefusedException.MessageNotFound, "not found"));

        var answer = await PostAsync("""{ "tag": "montag" }""");

        Assert.Equal(202, answer.Status);
        Assert.Equal(CompletionUrl, answer.Location);
        Assert.Equal("5", answer.RetryAfter);
        Assert.Equal("pending", (string?)answer.Json["state"]);
    }

    [Fact]
    public async Task Registering_again_is_harmless()
    {
        StoreSummary(TagState.Pending, tracked: true, nextRefreshAt: F.Now.AddMinutes(15));

        var answer = await PostAsync("""{ "tag": "montag" }""");

        Assert.Equal(202, answer.Status);
        Assert.Equal("900", answer.RetryAfter);
        Assert.Empty(F.Saved);
        F.Store.Verify(s => s.SaveSummaryAsync(It.IsAny<TagSummary>(), It.IsAny<ETag?>(), It.IsAny<CancellationToken>()), Times.Never);
        F.VerifyNoUpstreamCall();
    }

    [Theory]
    [InlineData("{ \"tag\": ")]
    [InlineData("tag=montag")]
    [InlineData("{ \"tag\": 42 }")]
    [InlineData("[\"montag\"]")]
    public async Task A_body_that_is_not_the_json_asked_for_is_a_400_naming_the_body(string body)
    {
        var answer = await PostAsync(body);

        answer.AssertProblem(400, "body", "JSON");
        Assert.Contains("montag", (string?)answer.Json["detail"]);   // the detail shows an example
        VerifyNothingTouched();
    }

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    public async Task An_empty_body_is_a_400_naming_the_body(string body)
    {
        var answer = await PostAsync(body);

        answer.AssertProblem(400, "body");
        VerifyNothingTouched();
    }

    [Theory]
    [InlineData("{}", "required")]
    [InlineData("""{ "tag": "" }""", "required")]
    [InlineData("""{ "tag": "MonTag" }""", "lowercase")]
    [InlineData("""{ "tag": "mon tag" }""", "spaces")]
    [InlineData("""{ "tag": "abcdefghijklmnopqrstu" }""", "20")]
    public async Task A_tag_outside_the_send_rules_is_a_400_naming_the_rule(string body, string rule)
    {
        var answer = await PostAsync(body);

        answer.AssertProblem(400, "tag", rule);
        VerifyNothingTouched();
    }

    [Fact]
    public async Task A_body_over_16_KiB_is_a_413()
    {
        var answer = await PostAsync($$"""{ "tag": "montag", "padding": "{{new string('x', 16 * 1024)}}" }""");

        answer.AssertProblem(413);
        VerifyNothingTouched();
    }

    [Fact]
    public async Task A_body_over_16_KiB_without_a_content_length_is_a_413()
    {
        var answer = await PostAsync($$"""{ "tag": "montag", "padding": "{{new string('x', 16 * 1024)}}" }""", sendContentLength: false);

        answer.AssertProblem(413);
        VerifyNothingTouched();
    }

    [Fact]
    public async Task A_body_of_exactly_16_KiB_is_read()
    {
        var prefix = "{ \"tag\": \"montag\", \"padding\": \"";
        var body = prefix + new string('x', 16 * 1024 - prefix.Length - 3) + "\" }";
        Assert.Equal(16 * 1024, Encoding.UTF8.GetByteCount(body));
        F.Upstream(Upstream("+33600000001", "Waiting"));

        var answer = await PostAsync(body);

        Assert.Equal(202, answer.Status);
    }

    [Fact]
    public async Task A_huge_body_without_a_content_length_is_refused_after_reading_little_more_than_the_limit()
    {
        var context = HandlerHarness.Request("POST", "/api/tags");
        var body = new CountingStream(64L * 1024 * 1024);
        context.Request.Body = body;

        var answer = await HandlerHarness.ExecuteAsync(context, await _h.TrackingHandler.RegisterAsync(context.Request, default));

        answer.AssertProblem(413);
        Assert.InRange(body.BytesRead, 16 * 1024 + 1, 128 * 1024);
    }

    [Fact]
    public async Task Registering_while_storage_is_down_is_a_503_with_retry_after()
    {
        StorageDown();

        var answer = await PostAsync("""{ "tag": "montag" }""");

        answer.AssertUnavailable();
    }

    // ---- DELETE /api/tags/{tag} ----

    [Fact]
    public async Task Untracking_a_tracked_tag_answers_204_with_no_body()
    {
        StoreSummary(TagState.Pending, tracked: true, nextRefreshAt: F.Now);

        var answer = await DeleteAsync("montag");

        Assert.Equal(204, answer.Status);
        Assert.Equal(string.Empty, answer.Body);
        F.Store.Verify(s => s.SaveSummaryAsync(It.Is<TagSummary>(t => !t.Tracked && t.NextRefreshAt == null), new ETag("s1"), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task Untracking_an_untracked_tag_is_a_404()
    {
        StoreSummary(TagState.Complete, tracked: false);

        var answer = await DeleteAsync("montag");

        answer.AssertProblem(404, detailContains: "montag");
    }

    [Fact]
    public async Task Untracking_an_unknown_tag_is_a_404()
    {
        var answer = await DeleteAsync("montag");

        answer.AssertProblem(404);
    }

    [Fact]
    public async Task Untracking_a_bad_tag_is_a_400()
    {
        var answer = await DeleteAsync("MONTAG");

        answer.AssertProblem(400, "tag", "lowercase");
        VerifyNothingTouched();
    }

    [Fact]
    public async Task Untracking_while_storage_is_down_is_a_503_with_retry_after()
    {
        StorageDown();

        (await DeleteAsync("montag")).AssertUnavailable();
    }

    // ---- GET /api/tags ----

    private void Listing(TagState? state, int pageSize, string? token, string? next, params string[] tags) =>
        F.Store.Setup(s => s.ListTrackedAsync(state, pageSize, token, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new TrackedTagPage(
                tags.Select(t => Summary(t, state ?? TagState.Pending, new TagCounts(1, 0, 0, 1, 0), T0, T0.AddMinutes(1), tracked: true)).ToList(),
                next));

    [Fact]
    public async Task Listing_answers_the_tracked_tags_without_recipients_and_no_next_link_on_the_last_page()
    {
        Listing(null, 100, null, null, "newest", "older");

        var answer = await ListAsync();

        Assert.Equal(200, answer.Status);
        Assert.Equal("application/json; charset=utf-8", answer.ContentType);
        var value = answer.Json["value"]!.AsArray();
        Assert.Equal(["newest", "older"], value.Select(v => (string?)v!["tag"]));
        Assert.All(value, v => Assert.Null(v!["recipients"]));
        Assert.Null(answer.Json["nextLink"]);
    }

    [Theory]
    [InlineData("pending", TagState.Pending)]
    [InlineData("complete", TagState.Complete)]
    [InlineData("expired", TagState.Expired)]
    public async Task Listing_filters_by_state(string name, TagState state)
    {
        Listing(state, 100, null, null, "montag");

        var answer = await ListAsync($"?state={name}");

        Assert.Equal(200, answer.Status);
        Assert.Equal(name, (string?)Assert.Single(answer.Json["value"]!.AsArray())!["state"]);
    }

    [Fact]
    public async Task The_next_link_carries_the_continuation_token_and_the_other_query_values_but_not_the_key()
    {
        Listing(TagState.Pending, 2, "token-1", "token 2/+", "a", "b");

        var answer = await ListAsync("?state=pending&pageSize=2&continuationToken=token-1&code=fn-key");

        var nextLink = new Uri((string)answer.Json["nextLink"]!);
        Assert.Equal("https://tags.example.net/api/tags", nextLink.GetLeftPart(UriPartial.Path));
        var query = System.Web.HttpUtility.ParseQueryString(nextLink.Query);
        Assert.Equal("token 2/+", query["continuationToken"]);
        Assert.Equal("pending", query["state"]);
        Assert.Equal("2", query["pageSize"]);
        Assert.Null(query["code"]);
        Assert.DoesNotContain("fn-key", nextLink.OriginalString, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("?state=done")]
    [InlineData("?state=Pending")]
    [InlineData("?state=pending&state=complete")]
    public async Task Listing_with_a_bad_state_is_a_400_naming_state(string query)
    {
        var answer = await ListAsync(query);

        answer.AssertProblem(400, "state", "pending, complete, expired");
        F.Store.Verify(s => s.ListTrackedAsync(It.IsAny<TagState?>(), It.IsAny<int>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Theory]
    [InlineData("?pageSize=0")]
    [InlineData("?pageSize=1001")]
    [InlineData("?pageSize=ten")]
    public async Task Listing_with_a_bad_page_size_is_a_400_naming_pageSize(string query)
    {
        var answer = await ListAsync(query);

        answer.AssertProblem(400, "pageSize", "1 to 1000");
    }

    [Fact]
    public async Task A_continuation_token_the_store_does_not_know_is_a_400_naming_it()
    {
        F.Store.Setup(s => s.ListTrackedAsync(null, 100, "forged", It.IsAny<CancellationToken>())).ThrowsAsync(new ArgumentException("bad token"));

        var answer = await ListAsync("?continuationToken=forged");

        answer.AssertProblem(400, "continuationToken");
    }

    [Theory]
    [InlineData("?continuationToken=")]
    [InlineData("?continuationToken=a&continuationToken=b")]
    public async Task An_empty_or_repeated_continuation_token_is_a_400_naming_it(string query)
    {
        var answer = await ListAsync(query);

        answer.AssertProblem(400, "continuationToken");
        F.Store.Verify(s => s.ListTrackedAsync(It.IsAny<TagState?>(), It.IsAny<int>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Listing_while_storage_is_down_is_a_503_with_retry_after()
    {
        F.Store.Setup(s => s.ListTrackedAsync(It.IsAny<TagState?>(), It.IsAny<int>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreUnavailableException("down"));

        (await ListAsync()).AssertUnavailable();
    }

    // ---- GET /api/tags/{tag}/completion ----

    [Fact]
    public async Task A_pending_tag_answers_202_with_itself_as_location_and_the_wait_until_its_next_refresh()
    {
        StoreSummary(TagState.Pending, nextRefreshAt: F.Now.AddMinutes(5).AddSeconds(0.5));

        var answer = await CompletionAsync("montag");

        Assert.Equal(202, answer.Status);
        Assert.Equal(CompletionUrl, answer.Location);
        Assert.Equal("301", answer.RetryAfter);
        Assert.Equal("pending", (string?)answer.Json["state"]);
        F.VerifyNoUpstreamCall();
    }

    [Fact]
    public async Task A_pending_tag_overdue_for_refresh_asks_to_retry_after_the_floor_not_at_once()
    {
        StoreSummary(TagState.Pending, nextRefreshAt: F.Now.AddMinutes(-3));

        var answer = await CompletionAsync("montag");

        Assert.Equal(202, answer.Status);
        Assert.Equal("5", answer.RetryAfter);
    }

    [Fact]
    public async Task A_pending_tag_no_longer_tracked_is_a_404_rather_than_an_endless_202()
    {
        StoreSummary(TagState.Pending, tracked: false);

        var answer = await CompletionAsync("montag");

        Assert.Equal(404, answer.Status);
        Assert.Contains("not tracked", (string?)answer.Json["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nothing_stored_while_a_lookup_queued_the_first_read_is_202_polling_itself()
    {
        F.Passes.Setup(p => p.IsOpenAsync(LookupFixture.MonTag, It.IsAny<CancellationToken>())).ReturnsAsync(true);

        var answer = await CompletionAsync("montag");

        Assert.Equal(202, answer.Status);
        Assert.Equal(CompletionUrl, answer.Location);
        Assert.Equal("5", answer.RetryAfter);
    }

    [Fact]
    public async Task Nothing_stored_and_no_read_under_way_is_a_404()
    {
        F.Passes.Setup(p => p.IsOpenAsync(LookupFixture.MonTag, It.IsAny<CancellationToken>())).ReturnsAsync(false);

        var answer = await CompletionAsync("montag");

        answer.AssertProblem(404, detailContains: "register");
    }

    [Fact]
    public async Task A_polling_caller_keyed_by_query_keeps_its_key_on_the_location()
    {
        StoreSummary(TagState.Pending, nextRefreshAt: F.Now.AddMinutes(1));

        var answer = await CompletionAsync("montag", "?code=fn-key");

        Assert.Equal(CompletionUrl + "?code=fn-key", answer.Location);
    }

    [Theory]
    [InlineData(TagState.Complete, "complete")]
    [InlineData(TagState.Expired, "expired")]
    public async Task A_settled_tag_answers_200_with_the_summary_and_no_polling_headers(TagState state, string name)
    {
        StoreSummary(state);

        var answer = await CompletionAsync("montag");

        Assert.Equal(200, answer.Status);
        Assert.Null(answer.Location);
        Assert.Null(answer.RetryAfter);
        Assert.Equal(name, (string?)answer.Json["state"]);
        Assert.Equal(2, (int?)answer.Json["counts"]!["total"]);
        Assert.Null(answer.Json["recipients"]);
    }

    [Fact]
    public async Task The_completion_of_an_unknown_tag_is_a_404()
    {
        (await CompletionAsync("montag")).AssertProblem(404, detailContains: "montag");
    }

    [Fact]
    public async Task The_completion_of_a_bad_tag_is_a_400()
    {
        (await CompletionAsync("Mon Tag")).AssertProblem(400, "tag");
        VerifyNothingTouched();
    }

    [Fact]
    public async Task The_completion_while_storage_is_down_is_a_503_with_retry_after()
    {
        StorageDown();

        (await CompletionAsync("montag")).AssertUnavailable();
    }
}

/// <summary>An endless request body that counts what was read from it.</summary>
internal sealed class CountingStream(long length) : Stream
{
    public long BytesRead { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = (int)Math.Min(count, length - BytesRead);
        buffer.AsSpan(offset, n).Fill((byte)' ');
        BytesRead += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
