using System.Text.Json.Nodes;
using TagStatus.Core.Domain;
using static TagStatus.Tests.Support.SmsPartnerBodies;

namespace TagStatus.Tests.Sequences;

/// <summary>
/// The five read-path defects of issue 12, replayed through the real client, refresher, rules and handler. Each
/// failed on the code before the fix (the sixth, continuation tokens, needs Azurite: see the integration tests).
/// </summary>
public sealed class DefectSequenceTests
{
    private const string N1 = "+33600000001";
    private const string A = "+33600000011";
    private const string B = "+33600000012";
    private const string C = "+33600000013";

    private readonly UpstreamHarness _h = new();

    private static string State(JsonNode answer) => (string)answer["state"]!;

    private static int Count(JsonNode answer, string name) => (int)answer["counts"]![name]!;

    [Fact]
    public async Task Defect1_a_number_sent_twice_does_not_complete_when_upstream_reorders_its_rows()
    {
        _h.Serve(20, "2", Row(N1, "Delivered", date: "\"1764234000\""), Row(N1, "Waiting", date: "\"1764234060\""));
        Assert.Equal("pending", State(await _h.GetAsync()));

        _h.Serve(20, "2", Row(N1, "Waiting", date: "\"1764234060\""), Row(N1, "Delivered", date: "\"1764234000\""));
        var answer = await _h.GetAsync();

        Assert.Equal("pending", State(answer));
        Assert.Equal(1, Count(answer, "delivered"));
        Assert.Equal(1, Count(answer, "waiting"));
        Assert.DoesNotContain("tag.completed", _h.Events);
    }

    [Fact]
    public async Task Defect1_a_number_sent_again_listed_newest_first_keeps_its_waiting_messages()
    {
        _h.Serve(20, "2", Row(N1, "Waiting", date: "\"1764234060\""), Row(N1, "Delivered", date: "\"1764234000\""));
        await _h.GetAsync();

        _h.Serve(20, "3", Row(N1, "Waiting", date: "\"1764234120\""), Row(N1, "Waiting", date: "\"1764234060\""), Row(N1, "Delivered", date: "\"1764234000\""));
        var answer = await _h.GetAsync();

        Assert.Equal("pending", State(answer));
        Assert.Equal(1, Count(answer, "delivered"));
        Assert.Equal(2, Count(answer, "waiting"));
    }

    [Fact]
    public async Task Defect2_a_row_read_twice_on_shifted_pages_is_neither_complete_nor_stored_twice()
    {
        // C (waiting) moved ahead while the pages were read: page 2 repeats B and C is never seen.
        _h.ServePages("3", [Row(A), Row(B)], [Row(B)]);
        var answer = await _h.GetAsync();

        Assert.Equal("pending", State(answer));
        Assert.Equal(2, Count(answer, "total"));
        Assert.Equal(1, _h.RowsOf(B));
        Assert.True((bool?)answer["partial"]);
        Assert.Equal(3, (int?)answer["upstreamTotal"]);

        _h.ServePages("3", [Row(A), Row(B)], [Row(C, "Waiting")]);
        var healed = await _h.GetAsync();

        Assert.Equal("pending", State(healed));
        Assert.Equal(3, Count(healed, "total"));
        Assert.Equal(1, Count(healed, "waiting"));
        Assert.Equal(1, _h.RowsOf(B));
        Assert.False((bool?)healed["partial"]);
    }

    [Fact]
    public async Task Defect3_an_answer_without_total_does_not_complete_the_tag()
    {
        _h.ServePages(null, [Row(A), Row(B)]);

        var answer = await _h.GetAsync();

        Assert.Equal("pending", State(answer));
        Assert.True((bool?)answer["partial"]);
        Assert.Null(answer["upstreamTotal"]);
    }

    [Fact]
    public async Task Defect3_an_unknown_status_is_not_settled_and_ends_expired_not_complete()
    {
        _h.Serve(20, "2", Row(A), Row(B, "Queued"));
        Assert.Equal("pending", State(await _h.GetAsync()));

        _h.Time.Advance(_h.Tracking.Window + _h.Tracking.Margin);
        var answer = await _h.GetAsync();

        Assert.Equal("expired", State(answer));
        Assert.Equal(1, Count(answer, "unknown"));
        Assert.DoesNotContain("tag.completed", _h.Events);
    }

    [Fact]
    public async Task Defect4_an_upstream_that_ignores_page_shows_a_partial_answer()
    {
        var rows = Rows(1, 25);
        _h.PageBody = _ => Page("1", "25", rows[..20]);

        var answer = await _h.GetAsync();

        Assert.Equal("pending", State(answer));
        Assert.Equal(20, Count(answer, "total"));
        Assert.Equal(25, (int?)answer["upstreamTotal"]);
        Assert.True((bool?)answer["partial"]);
        Assert.Contains("20", (string?)answer["partialReason"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Defect5_a_settled_tag_read_again_with_new_messages_reopens_with_a_new_window()
    {
        _h.Serve(20, "1", Row(A));
        Assert.Equal("complete", State(await _h.GetAsync()));

        _h.Time.Advance(TimeSpan.FromDays(3));
        _h.Serve(20, "3", Row(A), Row(B, "Waiting"), Row(C, "Waiting"));
        var answer = await _h.GetAsync();

        Assert.Equal("pending", State(answer));
        Assert.True((bool?)answer["tracked"]);
        Assert.Equal(2, Count(answer, "waiting"));
        Assert.NotNull(answer["nextRefreshAt"]);
        Assert.Contains("tag.reopened", _h.Events);

        // The new window runs from the reopening: a day later the tag is still pending, not expired.
        _h.Time.Advance(TimeSpan.FromDays(1));
        Assert.Equal("pending", State(await _h.GetAsync()));
    }

    [Fact]
    public async Task Defect5_a_settled_tracked_tag_is_scheduled_for_a_re_check()
    {
        _h.Serve(20, "1", Row(A));

        await _h.Refresher.RefreshAsync(UpstreamHarness.MonTag, Core.Refresh.RefreshReason.Register, default);

        var summary = _h.Store.Summary(UpstreamHarness.MonTag)!;
        Assert.Equal(TagState.Complete, summary.State);
        Assert.NotNull(summary.NextRefreshAt);
        Assert.True(summary.NextRefreshAt > _h.Time.GetUtcNow());
    }
}
