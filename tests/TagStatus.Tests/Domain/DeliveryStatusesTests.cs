using TagStatus.Core.Domain;

namespace TagStatus.Tests.Domain;

public sealed class DeliveryStatusesTests
{
    [Theory]
    [InlineData("Delivered", DeliveryStatus.Delivered)]
    [InlineData("Not delivered", DeliveryStatus.NotDelivered)]
    [InlineData("Waiting", DeliveryStatus.Waiting)]
    [InlineData(" Waiting ", DeliveryStatus.Waiting)]
    public void Upstream_words_map_to_their_status(string raw, DeliveryStatus expected) =>
        Assert.Equal(expected, DeliveryStatuses.FromUpstream(raw));

    [Theory]
    [InlineData("Queued")]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("delivered")]
    [InlineData("NotDelivered")]
    [InlineData("Not Delivered")]
    public void Unrecognised_upstream_values_map_to_unknown(string? raw) =>
        Assert.Equal(DeliveryStatus.Unknown, DeliveryStatuses.FromUpstream(raw));

    [Theory]
    [InlineData("Delivered")]
    [InlineData("Not delivered")]
    [InlineData("Waiting")]
    public void Rows_read_apart_hold_one_shared_string_for_each_of_SMS_Partners_wordings(string raw)
    {
        // Two copies, as two parsed pages would hold them: the rows keep the one interned instance.
        var first = new UpstreamRecipient("+33600000001", new string(raw.AsSpan()), false, null);
        var second = new UpstreamRecipient("+33600000002", new string(raw.AsSpan()), false, null);

        Assert.Same(string.IsInterned(raw), first.RawStatus);
        Assert.Same(first.RawStatus, second.RawStatus);
    }

    [Theory]
    [InlineData(" Waiting ")]
    [InlineData("Queued")]
    public void Any_other_raw_status_is_kept_verbatim(string raw)
    {
        var copy = new string(raw.AsSpan());

        Assert.Same(copy, new UpstreamRecipient("+33600000001", copy, false, null).RawStatus);
    }

    [Theory]
    [InlineData(DeliveryStatus.Delivered, "delivered")]
    [InlineData(DeliveryStatus.NotDelivered, "notDelivered")]
    [InlineData(DeliveryStatus.Waiting, "waiting")]
    [InlineData(DeliveryStatus.Unknown, "unknown")]
    public void Api_names_round_trip(DeliveryStatus status, string name)
    {
        Assert.Equal(name, status.ToApiName());
        Assert.True(DeliveryStatuses.TryParseApiName(name, out var parsed));
        Assert.Equal(status, parsed);
    }

    [Theory]
    [InlineData("Delivered")]
    [InlineData("not-delivered")]
    [InlineData("")]
    [InlineData(null)]
    public void Api_names_are_exact(string? name) =>
        Assert.False(DeliveryStatuses.TryParseApiName(name, out _));

    [Fact]
    public void Only_delivered_and_not_delivered_are_final()
    {
        Assert.True(DeliveryStatus.Delivered.IsFinal());
        Assert.True(DeliveryStatus.NotDelivered.IsFinal());
        Assert.False(DeliveryStatus.Waiting.IsFinal());
        Assert.False(DeliveryStatus.Unknown.IsFinal());
    }
}
