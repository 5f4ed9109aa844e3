using TagStatus.Core.Domain;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Domain;

public sealed class RecipientMergeTests
{
    [Theory]
    [InlineData(DeliveryStatus.Delivered, "Waiting")]
    [InlineData(DeliveryStatus.NotDelivered, "Waiting")]
    [InlineData(DeliveryStatus.Delivered, "Queued")]
    [InlineData(DeliveryStatus.NotDelivered, "")]
    public void Refresh_never_undoes_a_final_status(DeliveryStatus final, string laterRaw)
    {
        var stored = new[] { Recipient("+33600000001", final) };

        var result = RecipientMerge.Merge(stored, [Upstream("+33600000001", laterRaw)]);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(final, only.Status);
        Assert.Equal(RawOf(final), only.RawStatus);
        Assert.Empty(result.Changed);
    }

    [Fact]
    public void A_waiting_recipient_moves_to_its_final_status_and_is_changed()
    {
        var at = T0.AddMinutes(3);
        var stored = new[] { Recipient("+33600000001", DeliveryStatus.Waiting) };

        var result = RecipientMerge.Merge(stored, [Upstream("+33600000001", "Delivered", statusAt: at)]);

        var changed = Assert.Single(result.Changed);
        Assert.Equal(DeliveryStatus.Delivered, changed.Status);
        Assert.Equal(at, changed.StatusAt);
        Assert.Equal(DeliveryStatus.Delivered, Assert.Single(result.Recipients).Status);
    }

    [Fact]
    public void A_final_status_may_be_corrected_by_another_final_status()
    {
        var stored = new[] { Recipient("+33600000001", DeliveryStatus.Delivered) };

        var result = RecipientMerge.Merge(stored, [Upstream("+33600000001", "Not delivered")]);

        Assert.Equal(DeliveryStatus.NotDelivered, Assert.Single(result.Changed).Status);
    }

    [Fact]
    public void Stored_recipients_missing_from_a_short_answer_are_kept()
    {
        var stored = new[]
        {
            Recipient("+33600000001", DeliveryStatus.Delivered),
            Recipient("+33600000002", DeliveryStatus.Waiting),
            Recipient("+33600000003", DeliveryStatus.NotDelivered),
        };

        var result = RecipientMerge.Merge(stored, [Upstream("+33600000002", "Delivered")]);

        Assert.Equal(["+33600000001", "+33600000002", "+33600000003"], result.Recipients.Select(r => r.PhoneNumber));
        Assert.Equal(DeliveryStatus.Delivered, result.Recipients[0].Status);
        Assert.Equal(DeliveryStatus.Delivered, result.Recipients[1].Status);
        Assert.Equal(DeliveryStatus.NotDelivered, result.Recipients[2].Status);
        Assert.Equal("+33600000002", Assert.Single(result.Changed).PhoneNumber);
    }

    [Fact]
    public void The_same_number_twice_stays_two_rows_with_occurrences_0_and_1()
    {
        var result = RecipientMerge.Merge([], [Upstream("+33600000001", "Delivered"), Upstream("+33600000001", "Waiting")]);

        Assert.Equal(2, result.Recipients.Count);
        Assert.Equal([0, 1], result.Recipients.Select(r => r.Occurrence));
        Assert.Equal(DeliveryStatus.Delivered, result.Recipients[0].Status);
        Assert.Equal(DeliveryStatus.Waiting, result.Recipients[1].Status);
        Assert.Equal(2, result.Changed.Count);
        Assert.Equal(2, TagCounts.Of(result.Recipients).Total);
    }

    [Fact]
    public void A_number_sent_twice_is_matched_as_a_multiset_not_by_position()
    {
        // Issue 12 changed this: it used to pair rows by position (occurrence n with the n-th row), which gave two
        // finals where upstream shows one, and completed tags early when upstream reordered.
        var stored = new[]
        {
            Recipient("+33600000001", DeliveryStatus.Delivered, occurrence: 0),
            Recipient("+33600000001", DeliveryStatus.Waiting, occurrence: 1),
        };

        var reordered = RecipientMerge.Merge(stored, [Upstream("+33600000001", "Waiting"), Upstream("+33600000001", "Delivered")]);
        var oneWentFinal = RecipientMerge.Merge(stored, [Upstream("+33600000001", "Not delivered"), Upstream("+33600000001", "Delivered")]);

        Assert.Equal(stored, reordered.Recipients);
        Assert.Empty(reordered.Changed);
        Assert.Equal([DeliveryStatus.Delivered, DeliveryStatus.NotDelivered], oneWentFinal.Recipients.Select(r => r.Status));
        var changed = Assert.Single(oneWentFinal.Changed);
        Assert.Equal(1, changed.Occurrence);
    }

    [Fact]
    public void Only_new_or_changed_rows_are_in_Changed()
    {
        var stored = new[]
        {
            Recipient("+33600000001", DeliveryStatus.Delivered),
            Recipient("+33600000002", DeliveryStatus.Waiting),
            Recipient("+33600000003", DeliveryStatus.Waiting),
        };

        var result = RecipientMerge.Merge(stored,
        [
            Upstream("+33600000001", "Delivered"),
            Upstream("+33600000002", "Waiting"),
            Upstream("+33600000003", "Waiting", stopSms: true),
            Upstream("+33600000004", "Waiting"),
        ]);

        Assert.Equal(["+33600000003", "+33600000004"], result.Changed.Select(r => r.PhoneNumber).Order(StringComparer.Ordinal));
        Assert.True(result.Changed.Single(r => r.PhoneNumber == "+33600000003").StopSms);
        Assert.Equal(4, result.Recipients.Count);
    }

    [Fact]
    public void Unchanged_rows_cost_nothing()
    {
        var stored = Enumerable.Range(0, 50).Select(i => Recipient($"+336{i:D8}", i % 2 == 0 ? DeliveryStatus.Delivered : DeliveryStatus.Waiting)).ToList();
        var upstream = stored.Select(r => Upstream(r.PhoneNumber, r.RawStatus, r.StopSms, r.StatusAt)).ToList();

        var result = RecipientMerge.Merge(stored, upstream);

        Assert.Empty(result.Changed);
        Assert.Equal(stored, result.Recipients);
    }

    [Fact]
    public void An_unknown_status_is_kept_verbatim_as_raw()
    {
        var result = RecipientMerge.Merge([], [Upstream("+33600000001", "Queued")]);

        var only = Assert.Single(result.Recipients);
        Assert.Equal(DeliveryStatus.Unknown, only.Status);
        Assert.Equal("Queued", only.RawStatus);
    }

    [Fact]
    public void Merged_recipients_are_ordered_by_number_then_occurrence()
    {
        var result = RecipientMerge.Merge(
            [Recipient("+33600000002", DeliveryStatus.Delivered)],
            [Upstream("+33600000003", "Waiting"), Upstream("+33600000001", "Waiting"), Upstream("+33600000001", "Waiting")]);

        Assert.Equal(
            [("+33600000001", 0), ("+33600000001", 1), ("+33600000002", 0), ("+33600000003", 0)],
            result.Recipients.Select(r => (r.PhoneNumber, r.Occurrence)));
    }

    [Fact]
    public void A_full_pass_drops_a_waiting_row_that_shifted_pages_made_up_and_keeps_every_final()
    {
        var stored = new[]
        {
            Recipient("+33600000001", DeliveryStatus.Delivered, occurrence: 0),
            Recipient("+33600000001", DeliveryStatus.Waiting, occurrence: 1),
            Recipient("+33600000002", DeliveryStatus.Waiting, occurrence: 0),
        };
        var pass = UpstreamPass.Of(2, PassEnd.ReachedTotal, [Upstream("+33600000001", "Delivered"), Upstream("+33600000002", "Waiting")]);

        var result = RecipientMerge.Merge(stored, pass);

        Assert.Equal([("+33600000001", 0), ("+33600000002", 0)], result.Recipients.Select(r => (r.PhoneNumber, r.Occurrence)));
        var removed = Assert.Single(result.Removed);
        Assert.Equal(("+33600000001", 1), (removed.PhoneNumber, removed.Occurrence));
        Assert.Empty(result.Changed);
        Assert.False(result.Grew);
    }

    [Fact]
    public void A_full_pass_never_drops_a_final_row_even_when_upstream_shows_fewer()
    {
        var stored = new[] { Recipient("+33600000001", DeliveryStatus.Delivered, occurrence: 0), Recipient("+33600000001", DeliveryStatus.NotDelivered, occurrence: 1) };
        var pass = UpstreamPass.Of(1, PassEnd.ReachedTotal, [Upstream("+33600000001", "Waiting")]);

        var result = RecipientMerge.Merge(stored, pass);

        Assert.Equal(stored, result.Recipients);
        Assert.Empty(result.Removed);
    }

    [Fact]
    public void A_new_message_to_a_known_number_grows_the_tag()
    {
        var stored = new[] { Recipient("+33600000001", DeliveryStatus.Delivered) };
        var pass = UpstreamPass.Of(2, PassEnd.ReachedTotal, [Upstream("+33600000001", "Delivered"), Upstream("+33600000001", "Waiting")]);

        var result = RecipientMerge.Merge(stored, pass);

        Assert.True(result.Grew);
        var added = Assert.Single(result.Changed);
        Assert.Equal((1, DeliveryStatus.Waiting), (added.Occurrence, added.Status));
    }
}
