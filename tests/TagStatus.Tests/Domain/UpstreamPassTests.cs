using TagStatus.Core.Domain;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Domain;

public sealed class UpstreamPassTests
{
    private static readonly UpstreamRecipient A = Upstream("+33600000001", "Delivered");
    private static readonly UpstreamRecipient B = Upstream("+33600000002", "Delivered");
    private static readonly UpstreamRecipient C = Upstream("+33600000003", "Waiting");

    [Fact]
    public void A_pass_that_read_every_announced_row_is_full()
    {
        var pass = UpstreamPass.Of(3, PassEnd.ReachedTotal, [A, B], [C]);

        Assert.True(pass.IsFull);
        Assert.Null(pass.PartialReason);
        Assert.Equal(3, pass.DistinctCount);
    }

    [Fact]
    public void A_row_repeated_on_the_next_page_counts_once_and_the_pass_is_partial()
    {
        var pass = UpstreamPass.Of(3, PassEnd.Exhausted, [A, B], [B]);

        Assert.False(pass.IsFull);
        Assert.Equal(2, pass.DistinctCount);
        Assert.Equal(3, pass.RowsReadCount);
        Assert.Contains("2 distinct rows read of 3", pass.PartialReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Equal_rows_on_one_page_are_two_messages()
    {
        var pass = UpstreamPass.Of(2, PassEnd.ReachedTotal, [A, A]);

        Assert.True(pass.IsFull);
        Assert.Equal(2, pass.WitnessedByNumber()[A.PhoneNumber].Count);
    }

    [Fact]
    public void Without_a_total_no_pass_is_full()
    {
        var pass = UpstreamPass.Of(null, PassEnd.Exhausted, [A, B]);

        Assert.False(pass.IsFull);
        Assert.Contains("no total", pass.PartialReason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pass_not_yet_ended_is_not_full_and_takes_more_pages()
    {
        var pass = new UpstreamPass();
        pass.Add([A, B], 3);
        Assert.False(pass.IsFull);

        pass.Add([C], 3);
        pass.Finish(PassEnd.ReachedTotal);

        Assert.True(pass.IsFull);
        Assert.Throws<InvalidOperationException>(() => pass.Add([C], 3));
    }

    [Fact]
    public void On_a_partial_pass_one_number_counts_only_as_many_rows_as_one_page_showed_finals_first()
    {
        var waiting = Upstream("+33600000004", "Waiting", statusAt: T0);
        var delivered = Upstream("+33600000004", "Delivered", statusAt: T0.AddMinutes(1));

        var pass = UpstreamPass.Of(5, PassEnd.Exhausted, [A, waiting], [delivered, B]);

        Assert.Equal([delivered], pass.WitnessedByNumber()["+33600000004"]);
    }

    [Fact]
    public void A_pass_after_stored_pages_counts_them_but_cannot_be_judged_or_merged_alone()
    {
        var step = UpstreamPass.After(pagesBefore: 3, rowsBefore: 60, announcedTotal: 100, lastPage: [Upstream("+33600000001", "Delivered")]);
        step.Add([Upstream("+33600000002", "Delivered"), Upstream("+33600000003", "Waiting")], 100);

        Assert.False(step.HoldsAllPages);
        Assert.Equal((4, 62, 62), (step.PagesRead, step.RowsReadCount, step.DistinctAtMost));
        Assert.False(step.NeedsEarlierPages);
        Assert.False(step.HasReachedTotal);
        Assert.Throws<InvalidOperationException>(() => step.DistinctCount);
        Assert.Throws<InvalidOperationException>(() => step.WitnessedByNumber());
    }
}
