using Azure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using TagStatus.Core.Domain;
using TagStatus.Core.Refresh;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.Tests.Support;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Refresh;

/// <summary>A big tag's pass in steps: continued from its stored cursor, merged only once it has ended.</summary>
public sealed class StepwiseRefresherTests
{
    private static readonly Tag MonTag = LookupFixture.MonTag;
    private readonly LookupFixture _f = new();
    private readonly Mock<IPassStore> _passes = new();
    private readonly TrackingOptions _options = new() { PagesPerMessage = 2, MaxPassAge = TimeSpan.FromHours(2) };
    private readonly List<int> _pagesAsked = [];
    private UpstreamRecipient[][] _pages = [];

    public StepwiseRefresherTests()
    {
        _f.Client.Setup(c => c.ContinuePassAsync(MonTag, It.IsAny<UpstreamPass>(), It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .Callback((Tag _, UpstreamPass pass, int max, CancellationToken _) =>
            {
                for (var read = 0; read < max && pass.End == PassEnd.Open; read++)
                {
                    _pagesAsked.Add(pass.PagesRead + 1);
                    pass.Add(_pages[pass.PagesRead], _pages.Sum(p => p.Length));
                    if (pass.PagesRead == _pages.Length)
                    {
                        pass.Finish(PassEnd.ReachedTotal);
                    }
                }
            })
            .Returns(Task.CompletedTask);
    }

    private StepwiseRefresher Refresher() =>
        new(_f.Client.Object, _passes.Object, _f.Refresher, Options.Create(_options), _f.Time, NullLogger<StepwiseRefresher>.Instance);

    private void Upstream(int pages) =>
        _pages = [.. Enumerable.Range(1, pages).Select(n => new[] { Data.Upstream($"+336{n:D8}", "Delivered") })];

    private void Stored(int pages, DateTimeOffset startedAt)
    {
        var cursor = new PassCursor(pages, _pages.Take(pages).Sum(page => page.Length), _pages.Length, startedAt, new ETag("cursor-1"), _pages[pages - 1]);
        _passes.Setup(p => p.GetCursorAsync(MonTag, It.IsAny<CancellationToken>())).ReturnsAsync(cursor);
        // As the store loads them: counted into the spill the step gives, not held.
        _passes.Setup(p => p.LoadPagesAsync(MonTag, cursor, It.IsAny<IPassSpill>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((Tag _, PassCursor _, IPassSpill spill, CancellationToken _) =>
            {
                var pass = UpstreamPass.Counting(spill, cursor.RowsRead);
                foreach (var page in _pages.Take(pages))
                {
                    pass.Add(page, _pages.Length);
                }

                return pass;
            });
    }

    private static StoredSummary SummaryOf(int recipients) =>
        new(Data.Summary(MonTag.Value, TagState.Pending, new TagCounts(recipients, 0, 0, recipients, 0), T0, T0, tracked: true), new ETag("summary-1"));

    [Fact]
    public async Task A_tag_that_fits_in_one_step_is_merged_and_stores_no_pass()
    {
        Upstream(pages: 2);

        var step = await Refresher().StepAsync(MonTag, null, followUp: false, RefreshReason.Scheduled, default);

        var completed = Assert.IsType<RefreshProgress.Completed>(step);
        Assert.Equal(2, completed.PagesRead);
        Assert.Equal(TagState.Complete, Assert.Single(_f.Saved).Summary.State);
        _passes.Verify(p => p.SaveAsync(It.IsAny<Tag>(), It.IsAny<UpstreamPass>(), It.IsAny<int>(), It.IsAny<DateTimeOffset>(), It.IsAny<ETag?>(), It.IsAny<CancellationToken>()), Times.Never);
        _passes.Verify(p => p.DeleteAsync(It.IsAny<Tag>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task A_bigger_tag_stores_its_open_pass_and_merges_nothing()
    {
        Upstream(pages: 5);

        var step = await Refresher().StepAsync(MonTag, null, followUp: false, RefreshReason.Scheduled, default);

        Assert.Equal(new RefreshProgress.Continued(2, 2), step);
        Assert.Empty(_f.Saved);
        _passes.Verify(p => p.SaveAsync(MonTag, It.Is<UpstreamPass>(pass => pass.PagesRead == 2 && pass.End == PassEnd.Open), 0, _f.Now, null, It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task The_next_step_goes_on_from_the_stored_cursor_and_stores_only_the_new_pages()
    {
        Upstream(pages: 5);
        Stored(pages: 2, startedAt: _f.Now.AddMinutes(-1));

        var step = await Refresher().StepAsync(MonTag, null, followUp: true, RefreshReason.Scheduled, default);

        Assert.Equal(new RefreshProgress.Continued(2, 4), step);
        Assert.Equal([3, 4], _pagesAsked);
        _passes.Verify(p => p.SaveAsync(MonTag, It.Is<UpstreamPass>(pass => pass.PagesRead == 4 && pass.PagesBefore == 2 && pass.Pages.Count == 2), 2, _f.Now.AddMinutes(-1), new ETag("cursor-1"), It.IsAny<CancellationToken>()), Times.Once);
        // The step goes on from the cursor's counters: the pages before are not read back.
        _passes.Verify(p => p.LoadPagesAsync(It.IsAny<Tag>(), It.IsAny<PassCursor>(), It.IsAny<IPassSpill>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task A_first_step_of_a_tag_that_fits_one_step_reads_no_stored_pass()
    {
        Upstream(pages: 2);

        var step = await Refresher().StepAsync(MonTag, SummaryOf(recipients: 2), followUp: false, RefreshReason.Scheduled, default);

        Assert.IsType<RefreshProgress.Completed>(step);
        _passes.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task A_first_step_of_a_tag_never_read_resumes_the_pass_its_first_steps_left()
    {
        Upstream(pages: 5);
        Stored(pages: 2, startedAt: _f.Now.AddMinutes(-20));

        var step = await Refresher().StepAsync(MonTag, SummaryOf(recipients: 0), followUp: false, RefreshReason.Scheduled, default);

        Assert.Equal(new RefreshProgress.Continued(2, 4), step);
        Assert.Equal([3, 4], _pagesAsked);
    }

    [Fact]
    public async Task A_first_step_that_does_not_fit_after_all_takes_over_a_pass_a_dead_step_left()
    {
        Upstream(pages: 5);
        Stored(pages: 4, startedAt: _f.Now.AddMinutes(-20));

        var step = await Refresher().StepAsync(MonTag, SummaryOf(recipients: 2), followUp: false, RefreshReason.Scheduled, default);

        Assert.Equal(new RefreshProgress.Continued(2, 2), step);
        Assert.Equal([1, 2], _pagesAsked);
        // From page 1, under the stale cursor's ETag, as a pass that starts now.
        _passes.Verify(p => p.SaveAsync(MonTag, It.Is<UpstreamPass>(pass => pass.PagesRead == 2 && pass.HoldsAllPages), 0, _f.Now, new ETag("cursor-1"), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task The_last_step_merges_the_whole_pass_and_forgets_it()
    {
        Upstream(pages: 5);
        Stored(pages: 4, startedAt: _f.Now.AddMinutes(-2));

        var step = await Refresher().StepAsync(MonTag, null, followUp: true, RefreshReason.Scheduled, default);

        var completed = Assert.IsType<RefreshProgress.Completed>(step);
        Assert.Equal(5, completed.PagesRead);
        var saved = Assert.Single(_f.Saved);
        Assert.Equal(5, saved.Summary.Counts.Total);
        Assert.Equal(TagState.Complete, saved.Summary.State); // a full pass, every row final
        _passes.Verify(p => p.DeleteAsync(MonTag, It.IsAny<CancellationToken>()), Times.Once);
        _passes.Verify(p => p.LoadPagesAsync(MonTag, It.IsAny<PassCursor>(), It.IsAny<IPassSpill>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task An_ended_pass_is_forgotten_before_it_is_merged_so_a_crash_between_never_reads_it_on()
    {
        Upstream(pages: 5);
        Stored(pages: 4, startedAt: _f.Now.AddMinutes(-2));
        var order = new List<string>();
        _passes.Setup(p => p.DeleteAsync(MonTag, It.IsAny<CancellationToken>())).Callback(() => order.Add("forget")).Returns(Task.CompletedTask);
        _f.Store.Setup(s => s.GetRecipientsAsync(MonTag, It.IsAny<CancellationToken>())).Callback(() => order.Add("merge")).ReturnsAsync([]);

        await Refresher().StepAsync(MonTag, null, followUp: true, RefreshReason.Scheduled, default);

        Assert.Equal("forget", order[0]);
        Assert.Contains("merge", order);
    }

    [Fact]
    public async Task A_cursor_moved_by_another_invocation_supersedes_this_step()
    {
        Upstream(pages: 5);
        Stored(pages: 2, startedAt: _f.Now.AddMinutes(-1));
        _passes.Setup(p => p.SaveAsync(It.IsAny<Tag>(), It.IsAny<UpstreamPass>(), It.IsAny<int>(), It.IsAny<DateTimeOffset>(), It.IsAny<ETag?>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new StoreConflictException("moved"));

        Assert.IsType<RefreshProgress.Superseded>(await Refresher().StepAsync(MonTag, null, followUp: true, RefreshReason.Scheduled, default));
        Assert.Empty(_f.Saved);
    }

    [Fact]
    public async Task A_pass_older_than_the_limit_starts_again_from_page_one()
    {
        Upstream(pages: 5);
        Stored(pages: 4, startedAt: _f.Now - _options.MaxPassAge - TimeSpan.FromMinutes(1));

        await Refresher().StepAsync(MonTag, null, followUp: true, RefreshReason.Scheduled, default);

        Assert.Equal([1, 2], _pagesAsked);
        _passes.Verify(p => p.DeleteAsync(MonTag, It.IsAny<CancellationToken>()), Times.Once);
        _passes.Verify(p => p.SaveAsync(MonTag, It.IsAny<UpstreamPass>(), 0, _f.Now, null, It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task Pages_read_before_an_upstream_failure_are_kept_for_the_retry()
    {
        Upstream(pages: 5);
        _f.Client.Setup(c => c.ContinuePassAsync(MonTag, It.IsAny<UpstreamPass>(), It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .Callback((Tag _, UpstreamPass pass, int _, CancellationToken _) => pass.Add(_pages[0], 5))
            .ThrowsAsync(new SmsPartnerUnavailableException("SMS Partner answered 503."));

        await Assert.ThrowsAsync<SmsPartnerUnavailableException>(() => Refresher().StepAsync(MonTag, null, followUp: false, RefreshReason.Scheduled, default));

        Assert.Empty(_f.Saved);
        _passes.Verify(p => p.SaveAsync(MonTag, It.Is<UpstreamPass>(pass => pass.PagesRead == 1), 0, _f.Now, null, It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_failure_before_any_page_stores_nothing()
    {
        _f.Client.Setup(c => c.ContinuePassAsync(MonTag, It.IsAny<UpstreamPass>(), It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new SmsPartnerUnavailableException("SMS Partner answered 503."));

        await Assert.ThrowsAsync<SmsPartnerUnavailableException>(() => Refresher().StepAsync(MonTag, null, followUp: false, RefreshReason.Scheduled, default));

        _passes.Verify(p => p.SaveAsync(It.IsAny<Tag>(), It.IsAny<UpstreamPass>(), It.IsAny<int>(), It.IsAny<DateTimeOffset>(), It.IsAny<ETag?>(), It.IsAny<CancellationToken>()), Times.Never);
    }
}
