using SmsPartner.Simulator;
using TagStatus.Core.Domain;
using TagStatus.Core.Refresh;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.IntegrationTests.Flows;

/// <summary>
/// Big tags progress in steps from a stored cursor, and never starve small ones: over real Azurite and the simulator,
/// a simulated minute at a time (<see cref="AppHarness.RunTimerAndQueuesAsync"/>: the timer, then the visible messages).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class BigTagFlowTests(AzuriteFixture azurite)
{
    /// <summary>What 5 calls/s allows in a minute: the budget the run and the follow-ups must stay within.</summary>
    private const int CallsPerMinute = 5 * 60;

    [Fact]
    public async Task Four_tags_of_500_pages_complete_by_cursor_while_every_small_tag_is_refreshed_within_two_intervals()
    {
        await using var app = await AppHarness.StartAsync(azurite);
        var big = Enumerable.Range(1, 4).Select(i => Tag.Parse($"big-{i}")).ToList();
        var small = Enumerable.Range(1, 20).Select(i => Tag.Parse($"small-{i:D2}")).ToList();
        foreach (var tag in big)
        {
            // 500 pages of 20: waiting at first, settled by the time the first pass gets far.
            app.Simulator.State.GenerateTag(tag.Value, new GenerateSpec { Count = 10_000, WaitingRatio = 1.0, SettleAfterSecondsMin = 30, SettleAfterSecondsMax = 60, Seed = tag.Value.Length });
        }

        foreach (var tag in small)
        {
            app.Simulator.State.SeedTag(tag.Value, [new RecipientSeed { PhoneNumber = "+33600000001", Status = SmsStatuses.Waiting, SettleAfterSeconds = 100_000 }]);
        }

        // Registered before the timer ever runs, so the big tags' first reads are inline; their next reads go by the queue.
        foreach (var tag in big.Concat(small))
        {
            await app.Get<TrackingService>().RegisterAsync(tag, default);
        }

        var lastRefreshed = small.ToDictionary(t => t.Value, _ => app.Clock.GetUtcNow());
        var worstWait = TimeSpan.Zero;
        var completedAt = new Dictionary<string, int>();
        for (var minute = 1; minute <= 30 && completedAt.Count < big.Count; minute++)
        {
            app.Advance(TimeSpan.FromMinutes(1));
            var callsBefore = app.Simulator.State.StatusRequests;
            await app.RunTimerAndQueuesAsync();
            Assert.InRange(app.Simulator.State.StatusRequests - callsBefore, 0, CallsPerMinute);

            foreach (var tag in small)
            {
                var summary = (await app.Get<ITagStore>().GetSummaryAsync(tag, default))!.Summary;
                if (summary.RefreshedAt > lastRefreshed[tag.Value])
                {
                    lastRefreshed[tag.Value] = summary.RefreshedAt;
                }

                var wait = app.Clock.GetUtcNow() - (summary.NextRefreshAt ?? app.Clock.GetUtcNow());
                worstWait = wait > worstWait ? wait : worstWait;
            }

            foreach (var tag in big.Where(t => !completedAt.ContainsKey(t.Value)))
            {
                if ((await app.Get<ITagStore>().GetSummaryAsync(tag, default))!.Summary.State == TagState.Complete)
                {
                    completedAt[tag.Value] = minute;
                }
            }
        }

        // No small tag was ever due for more than two intervals, and every big tag completed by cursor: 500 pages at
        // 50 a message is 9 follow-ups a pass.
        Assert.True(worstWait <= TimeSpan.FromMinutes(2), $"a small tag waited {worstWait} past its due time");
        Assert.Equal(big.Count, completedAt.Count);
        Assert.True(app.Logs.GetSnapshot().Count(r => r.Id.Id == 4031) >= big.Count * 9, "the big tags were not read in steps");
        foreach (var tag in big)
        {
            var summary = (await app.Get<ITagStore>().GetSummaryAsync(tag, default))!.Summary;
            Assert.Equal(10_000, summary.Counts.Total);
            Assert.Equal(10_000, summary.UpstreamTotal);
            Assert.False(summary.Partial);
            Assert.Null(await app.Get<IPassStore>().GetCursorAsync(tag, default)); // the merged pass is forgotten
        }
    }

    [Fact]
    public async Task A_tag_read_a_thousand_rows_a_page_spills_its_steps_and_is_merged_in_groups_with_every_row_stored_once()
    {
        // 12,000 rows: the registration reads 2 pages and queues the rest; steps of 8 pages hold more than a step may (5,000
        // rows), so they spill; the last step counts 12,000 distinct rows, more than a group (10,000), so the merge takes
        // them back in groups.
        await using var app = await AppHarness.StartAsync(azurite, settings =>
        {
            settings["Tracking:PagesPerMessage"] = "8";
            settings["Lookup:MaxInlinePages"] = "2";
        });
        app.Simulator.State.Paging = app.Simulator.State.Paging with { PageSize = 1000 };
        var tag = Tag.Parse("big-spilled");
        app.Simulator.State.GenerateTag(tag.Value, new GenerateSpec { Count = 12_000, WaitingRatio = 0.0, Seed = 5 });
        await app.Get<TrackingService>().RegisterAsync(tag, default);

        for (var minute = 0; minute < 10 && (await app.Get<ITagStore>().GetSummaryAsync(tag, default))!.Summary.State != TagState.Complete; minute++)
        {
            app.Advance(TimeSpan.FromMinutes(1));
            await app.RunTimerAndQueuesAsync();
        }

        var summary = (await app.Get<ITagStore>().GetSummaryAsync(tag, default))!.Summary;
        Assert.Equal(TagState.Complete, summary.State);
        Assert.Equal((12_000, 12_000, false), (summary.Counts.Total, summary.UpstreamTotal, summary.Partial));
        var stored = await app.Get<ITagStore>().GetRecipientsAsync(tag, default);
        Assert.Equal(12_000, stored.Select(r => (r.Recipient.PhoneNumber, r.Recipient.Occurrence)).Distinct().Count());
        Assert.Equal(app.Simulator.State.GetRows(tag.Value)!.Select(r => r.PhoneNumber).Order(StringComparer.Ordinal), stored.Select(r => r.Recipient.PhoneNumber).Order(StringComparer.Ordinal));
        var layout = (await app.Get<ITagStore>().GetRangeLayoutAsync(tag, default))!.Layout!;
        Assert.InRange(layout.Ranges.Count, 6, 12); // ranges of about 2,000 rows, cut within each group
        Assert.Equal(12_000, layout.Ranges.Sum(range => range.Counts.Total));
        Assert.True(app.Logs.GetSnapshot().Count(r => r.Id.Id == 4031) >= 1, "the tag was not read in steps");
        Assert.Null(await app.Get<IPassStore>().GetCursorAsync(tag, default));
    }

    [Fact]
    public async Task A_pass_longer_than_the_sweeps_grace_is_neither_restarted_nor_counted_as_a_failure()
    {
        // 150 pages at 5 a step and a step a minute: ~30 minutes a pass, past a lease and the sweep's grace (25 minutes), with a
        // sweep every 5 minutes. (Found by a second read: the sweep used to start a rival chain that failed the tag.)
        await using var app = await AppHarness.StartAsync(azurite, settings =>
        {
            settings["Tracking:PagesPerMessage"] = "5";
            settings["Tracking:SweepEvery"] = "00:05:00";
        });
        var tag = Tag.Parse("big-sweep");
        app.Simulator.State.GenerateTag(tag.Value, new GenerateSpec { Count = 3_000, WaitingRatio = 1.0, SettleAfterSecondsMin = 30, SettleAfterSecondsMax = 60, Seed = 3 });
        await app.Get<TrackingService>().RegisterAsync(tag, default);

        var minutes = 0;
        var failures = new List<string>();
        while ((await app.Get<ITagStore>().GetSummaryAsync(tag, default))!.Summary.State == TagState.Pending && minutes++ < 90)
        {
            app.Advance(TimeSpan.FromMinutes(1));
            var minute = await app.RunTimerAndQueuesAsync();
            failures.AddRange(minute.Refreshes.Where(r => r == QueuedRefreshOutcome.Failed).Select(_ => $"minute {minutes}"));
        }

        var summary = (await app.Get<ITagStore>().GetSummaryAsync(tag, default))!.Summary;
        Assert.Empty(failures);
        Assert.Equal(0, summary.FailedRefreshes);
        Assert.Equal(TagState.Complete, summary.State);
        // Two passes: the registration reads 10 pages at once and queues the rest, so the first pass holds rows read while
        // every message still waited; the second, begun when the first ended, sees them settled.
        Assert.InRange(minutes, 50, 75);
    }

    [Fact]
    public async Task A_pass_stored_between_steps_reads_back_page_for_page_even_with_pages_of_a_thousand_rows()
    {
        await using var app = await AppHarness.StartAsync(azurite);
        var passes = app.Get<IPassStore>();
        var tag = Tag.Parse("thousand-rows");
        var pass = new UpstreamPass();
        var pages = Enumerable.Range(0, 3).Select(p => (IReadOnlyList<UpstreamRecipient>)[.. Enumerable.Range(0, 1000)
            .Select(i => new UpstreamRecipient($"+336{(p * 1000) + i:D8}", i % 7 == 0 ? "Waiting" : "Delivered", i % 50 == 0, app.Clock.GetUtcNow().AddSeconds(-i)))]).ToList();
        pass.Add(pages[0], 5000);
        var started = app.Clock.GetUtcNow();
        await passes.SaveAsync(tag, pass, 0, started, null, default);
        var first = (await passes.GetCursorAsync(tag, default))!;
        Assert.Equal(pages[0], first.LastPage);
        var step = first.Resume(); // the next step holds only its own pages
        step.Add(pages[1], 5000);
        step.Add(pages[2], 5000);
        await passes.SaveAsync(tag, step, 1, first.StartedAt, first.ETag, default);

        var cursor = (await passes.GetCursorAsync(tag, default))!;
        using var spill = new TempFilePassSpill();
        var loaded = await passes.LoadPagesAsync(tag, cursor, spill, default);

        Assert.Equal(started, cursor.StartedAt);
        Assert.Equal((3, 3000, 5000), (cursor.Pages, cursor.RowsRead, cursor.AnnouncedTotal));
        Assert.Equal(pages[2], cursor.LastPage);
        // Counted, not held: the rows are in the spill, page by page.
        Assert.True(loaded.CountsAllPages);
        Assert.Empty(loaded.Pages);
        Assert.Equal(pages[2], loaded.LastPage);
        Assert.Equal(3, loaded.PagesRead);
        Assert.Equal(5000, loaded.AnnouncedTotal);
        Assert.Equal(3000, loaded.DistinctCount);
        Assert.Equal([1, 2, 3], spill.ReadBack().Select(page => page.Page));
        Assert.Equal(pages.SelectMany(p => p), spill.ReadBack().SelectMany(page => page.Rows));
        await Assert.ThrowsAsync<StoreConflictException>(() => passes.SaveAsync(tag, step, 3, started, first.ETag, default)); // the cursor moved
        await passes.DeleteAsync(tag, default);
        Assert.Null(await passes.GetCursorAsync(tag, default));
    }

    [Theory]
    [InlineData(1000, 3, 1)] // pages of 1,000 rows: 1 a response, so 3 responses
    [InlineData(20, 150, 50)] // pages of 20 rows: 50 a response, so 3 responses, not 150
    public async Task A_stored_pass_is_loaded_in_responses_of_about_a_thousand_rows_whatever_its_page_size(int rowsAPage, int pages, int pagesPerResponse)
    {
        var recorder = new RecordingPolicy();
        await using var app = await AppHarness.StartAsync(azurite, storagePolicy: recorder);
        var passes = app.Get<IPassStore>();
        var tag = Tag.Parse($"loaded-{rowsAPage}");
        var pass = new UpstreamPass();
        for (var p = 0; p < pages; p++)
        {
            pass.Add([.. Enumerable.Range(0, rowsAPage).Select(i => new UpstreamRecipient($"+336{(p * rowsAPage) + i:D8}", "Delivered", false, null))], pages * rowsAPage);
        }

        await passes.SaveAsync(tag, pass, 0, app.Clock.GetUtcNow(), null, default);
        var cursor = (await passes.GetCursorAsync(tag, default))!;
        recorder.Clear();

        using var spill = new TempFilePassSpill();
        var loaded = await passes.LoadPagesAsync(tag, cursor, spill, default);

        // Each response is bounded by what the SDK must hold at once; the whole pass still comes back page for page.
        var tops = recorder.Requests.Where(r => r.Method == "GET" && r.Uri.AbsolutePath.EndsWith("Passes()", StringComparison.Ordinal))
            .Select(r => System.Web.HttpUtility.ParseQueryString(r.Uri.Query)["$top"]).ToList();
        Assert.Equal(3, tops.Count);
        Assert.All(tops, top => Assert.Equal(pagesPerResponse.ToString(System.Globalization.CultureInfo.InvariantCulture), top));
        Assert.Equal(pages, loaded.PagesRead);
        Assert.Equal(pages * rowsAPage, loaded.DistinctCount);
        Assert.Equal(pass.RowsRead, spill.ReadBack().SelectMany(page => page.Rows));
    }
}
