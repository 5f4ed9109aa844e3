using TagStatus.Core.Domain;
using TagStatus.Core.Lookup;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Lookup;

public sealed class RecipientQueryTests
{
    private static readonly IReadOnlyList<Recipient> Ten = Enumerable.Range(1, 10)
        .Select(i => Recipient($"+336{i:D8}", i % 3 == 0 ? DeliveryStatus.Waiting : i % 3 == 1 ? DeliveryStatus.Delivered : DeliveryStatus.NotDelivered))
        .ToList();

    [Fact]
    public void No_filter_keeps_every_recipient()
    {
        var query = new RecipientQuery(null, 1, 100);

        Assert.Equal(Ten, query.Filter(Ten));
    }

    [Fact]
    public void Status_filter_keeps_only_the_statuses_asked_for()
    {
        var query = new RecipientQuery(new HashSet<DeliveryStatus> { DeliveryStatus.Waiting, DeliveryStatus.NotDelivered }, 1, 100);

        var (items, hasMore) = query.Apply(Ten);

        Assert.Equal(6, items.Count);
        Assert.All(items, r => Assert.NotEqual(DeliveryStatus.Delivered, r.Status));
        Assert.False(hasMore);
    }

    [Fact]
    public void A_filter_that_matches_nothing_gives_an_empty_page()
    {
        var query = new RecipientQuery(new HashSet<DeliveryStatus> { DeliveryStatus.Unknown }, 1, 100);

        var (items, hasMore) = query.Apply(Ten);

        Assert.Empty(items);
        Assert.False(hasMore);
    }

    [Fact]
    public void Pages_are_consecutive_slices_of_pageSize()
    {
        var first = new RecipientQuery(null, 1, 4).Apply(Ten);
        var second = new RecipientQuery(null, 2, 4).Apply(Ten);
        var third = new RecipientQuery(null, 3, 4).Apply(Ten);

        Assert.Equal(Ten.Take(4), first.Items);
        Assert.True(first.HasMore);
        Assert.Equal(Ten.Skip(4).Take(4), second.Items);
        Assert.True(second.HasMore);
        Assert.Equal(Ten.Skip(8), third.Items);
        Assert.False(third.HasMore);
    }

    [Fact]
    public void HasMore_is_false_when_the_last_page_is_exactly_full()
    {
        var (items, hasMore) = new RecipientQuery(null, 2, 5).Apply(Ten);

        Assert.Equal(5, items.Count);
        Assert.False(hasMore);
    }

    [Fact]
    public void HasMore_is_true_when_one_more_recipient_follows_a_full_page()
    {
        var (items, hasMore) = new RecipientQuery(null, 1, 9).Apply(Ten);

        Assert.Equal(9, items.Count);
        Assert.True(hasMore);
    }

    [Fact]
    public void HasMore_counts_filtered_recipients_only()
    {
        // 4 delivered (1, 4, 7, 10): a page of 4 is exactly all of them.
        var (items, hasMore) = new RecipientQuery(new HashSet<DeliveryStatus> { DeliveryStatus.Delivered }, 1, 4).Apply(Ten);

        Assert.Equal(4, items.Count);
        Assert.False(hasMore);
    }

    [Fact]
    public void A_page_past_the_end_is_empty()
    {
        var (items, hasMore) = new RecipientQuery(null, 4, 5).Apply(Ten);

        Assert.Empty(items);
        Assert.False(hasMore);
    }

    [Fact]
    public void A_huge_page_number_does_not_overflow()
    {
        var (items, hasMore) = new RecipientQuery(null, int.MaxValue, RecipientQuery.MaxPageSize).Apply(Ten);

        Assert.Empty(items);
        Assert.False(hasMore);
    }
}
