using System.Text;
using System.Text.Json.Nodes;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Callbacks;

public sealed class TagEventTests
{
    private static readonly TagCounts TwoWaiting = new(2, 0, 0, 2, 0);
    private static readonly TagCounts OneWaiting = new(2, 1, 0, 1, 0);
    private static readonly TagCounts NoneWaiting = new(2, 2, 0, 0, 0);

    private static TagSummary S(TagState state, TagCounts counts) => Summary("montag", state, counts, T0, T0.AddMinutes(5), tracked: true);

    [Fact]
    public void A_tag_seen_for_the_first_time_calls_for_no_event() =>
        Assert.Null(TagEvent.TypeFor(null, S(TagState.Complete, NoneWaiting)));

    [Fact]
    public void An_unchanged_tag_calls_for_no_event() =>
        Assert.Null(TagEvent.TypeFor(S(TagState.Pending, TwoWaiting), S(TagState.Pending, TwoWaiting)));

    [Fact]
    public void A_refresh_that_only_moves_the_refresh_time_calls_for_no_event()
    {
        var previous = S(TagState.Pending, TwoWaiting);

        Assert.Null(TagEvent.TypeFor(previous, previous with { RefreshedAt = previous.RefreshedAt.AddMinutes(1), NextRefreshAt = T0.AddHours(1) }));
    }

    [Fact]
    public void Pending_to_complete_is_tag_completed() =>
        Assert.Equal("tag.completed", TagEvent.TypeFor(S(TagState.Pending, OneWaiting), S(TagState.Complete, NoneWaiting)));

    [Fact]
    public void Pending_to_expired_is_tag_expired() =>
        Assert.Equal("tag.expired", TagEvent.TypeFor(S(TagState.Pending, OneWaiting), S(TagState.Expired, OneWaiting)));

    [Fact]
    public void Counts_moving_while_pending_is_tag_changed() =>
        Assert.Equal("tag.changed", TagEvent.TypeFor(S(TagState.Pending, TwoWaiting), S(TagState.Pending, OneWaiting)));

    [Fact]
    public void Counts_moving_on_a_complete_tag_call_for_no_second_completed_event() =>
        Assert.Null(TagEvent.TypeFor(S(TagState.Complete, new TagCounts(2, 1, 0, 0, 1)), S(TagState.Complete, NoneWaiting)));

    [Fact]
    public void An_expired_tag_that_later_completes_is_tag_completed() =>
        Assert.Equal("tag.completed", TagEvent.TypeFor(S(TagState.Expired, OneWaiting), S(TagState.Complete, NoneWaiting)));

    [Fact]
    public void The_json_has_the_shape_of_the_contract_in_camel_case()
    {
        var tagEvent = new TagEvent("6f1c", TagEvent.Completed, "montag", T0.AddMinutes(5),
            new TagEventData("complete", new TagEventCounts(2, 2, 0, 0, 0)));

        var json = JsonNode.Parse(Encoding.UTF8.GetString(tagEvent.ToUtf8Json()))!;

        Assert.Equal("6f1c", (string?)json["id"]);
        Assert.Equal("tag.completed", (string?)json["type"]);
        Assert.Equal("montag", (string?)json["tag"]);
        Assert.Equal(T0.AddMinutes(5), DateTimeOffset.Parse((string)json["occurredAt"]!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("complete", (string?)json["data"]!["state"]);
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{ "total": 2, "delivered": 2, "notDelivered": 0, "waiting": 0, "unknown": 0 }"""),
            json["data"]!["counts"]));
        Assert.Equal(["id", "type", "tag", "occurredAt", "data"], json.AsObject().Select(p => p.Key));
    }

    [Fact]
    public void OccurredAt_is_written_as_utc_to_the_second_like_every_other_time_of_the_api()
    {
        var tagEvent = new TagEvent("6f1c", TagEvent.Completed, "montag", T0.AddMinutes(5).AddTicks(1234567),
            new TagEventData("complete", new TagEventCounts(2, 2, 0, 0, 0)));

        var json = JsonNode.Parse(Encoding.UTF8.GetString(tagEvent.ToUtf8Json()))!;

        Assert.Equal("2026-11-27T09:05:00Z", (string?)json["occurredAt"]);
    }

    [Fact]
    public void The_same_event_serializes_to_the_same_bytes()
    {
        var tagEvent = new TagEvent("6f1c", TagEvent.Changed, "montag", T0, new TagEventData("pending", new TagEventCounts(2, 1, 0, 1, 0)));

        Assert.Equal(tagEvent.ToUtf8Json(), tagEvent.ToUtf8Json());
    }
}
