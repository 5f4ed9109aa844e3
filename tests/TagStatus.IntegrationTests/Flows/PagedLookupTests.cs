using System.Globalization;
using Microsoft.Net.Http.Headers;
using TagStatus.Core.Domain;
using TagStatus.Core.Storage;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.IntegrationTests.Flows;

/// <summary>
/// A lookup costs one page, whatever the tag's size: on a stored 100,000-recipient tag, page 1, the last page and a
/// status filter each send at most 2 Table requests (the summary and one query), recorded on the app's own storage
/// clients; a 304 reads no recipient row; and the CSV of a small tag is byte for byte what it was before paging.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class PagedLookupTests(AzuriteFixture azurite)
{
    private const int BigTag = 100_000;
    private const int EveryTenthNotDelivered = 10;

    [Fact]
    public async Task Page_one_the_last_page_and_a_status_filter_of_a_100000_recipient_tag_cost_at_most_two_table_requests_each()
    {
        var recorder = new RecordingPolicy();
        await using var app = await AppHarness.StartAsync(azurite, storagePolicy: recorder);
        var tag = Tag.Parse("big-stored");
        await StoreSettledAsync(app, tag, BigTag);
        var lastPageToken = await TokenOfLastPageAsync(app, tag);

        recorder.Clear();
        var first = await app.GetTagAsync(tag.Value);
        var firstRequests = recorder.Requests.Count;

        recorder.Clear();
        var last = await app.GetTagAsync(tag.Value, $"?continuationToken={Uri.EscapeDataString(lastPageToken)}");
        var lastRequests = recorder.Requests.Count;

        recorder.Clear();
        var filtered = await app.GetTagAsync(tag.Value, "?status=notDelivered");
        var filteredRequests = recorder.Requests.Count;

        Assert.Equal(200, first.Status);
        Assert.Equal(100, first.Json["recipients"]!.AsArray().Count);
        Assert.Equal(BigTag, (int?)first.Json["counts"]!["total"]);
        Assert.NotNull((string?)first.Json["nextLink"]);
        Assert.True(firstRequests <= 2, $"page 1 sent {firstRequests} Table requests");

        Assert.Equal(200, last.Status);
        Assert.Equal(100, last.Json["recipients"]!.AsArray().Count);
        Assert.True(lastRequests <= 2, $"the last page sent {lastRequests} Table requests");

        Assert.Equal(200, filtered.Status);
        var rows = filtered.Json["recipients"]!.AsArray();
        Assert.Equal(100, rows.Count);
        Assert.All(rows, row => Assert.Equal("notDelivered", (string?)row!["status"]));
        Assert.Equal(BigTag / EveryTenthNotDelivered, (int?)filtered.Json["counts"]!["notDelivered"]);
        Assert.True(filteredRequests <= 2, $"a status filter sent {filteredRequests} Table requests");
    }

    [Fact]
    public async Task The_opt_out_filter_is_one_query_of_the_tags_partition_and_pages_the_opted_out_to_the_end()
    {
        var recorder = new RecordingPolicy();
        await using var app = await AppHarness.StartAsync(azurite, storagePolicy: recorder);
        var tag = Tag.Parse("stop-filter");
        var at = new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero);
        // 1,000 recipients, every 7th answered STOP: 143 of them.
        await StoreAsync(app, tag, [.. Enumerable.Range(0, 1_000).Select(i => new Recipient($"+336{i:D8}", 0, DeliveryStatus.Delivered, "Delivered", StopSms: i % 7 == 0, at))], TagState.Complete);

        recorder.Clear();
        var first = await app.GetTagAsync(tag.Value, "?stopSms=true&pageSize=100");
        var queries = recorder.TableQueries();
        var rows = first.Json["recipients"]!.AsArray().ToList();
        for (var page = first; (string?)page.Json["nextLink"] is { } next;)
        {
            page = await app.GetTagAsync(tag.Value, new Uri(next).Query); // the link keeps stopSms=true
            rows.AddRange(page.Json["recipients"]!.AsArray());
        }

        Assert.Equal(200, first.Status);
        var query = Assert.Single(queries, q => q.Table.StartsWith(app.TablePrefix + RecipientMonths.TableStem, StringComparison.Ordinal));
        Assert.Matches(@"^PartitionKey eq '[^']*' and StopSms eq true$", query.Filter);
        Assert.Equal(143, rows.Count);
        Assert.All(rows, row => Assert.True((bool?)row!["stopSms"]));
        Assert.Equal(143, (int?)first.Json["counts"]!["optedOut"]);
    }

    [Fact]
    public async Task A_304_reads_no_recipient_row()
    {
        var recorder = new RecordingPolicy();
        await using var app = await AppHarness.StartAsync(azurite, storagePolicy: recorder);
        var tag = Tag.Parse("polled");
        await StoreSettledAsync(app, tag, 250);
        var first = await app.GetTagAsync(tag.Value, "?status=delivered&pageSize=50");

        recorder.Clear();
        var again = await app.GetTagAsync(tag.Value, "?status=delivered&pageSize=50", r => r.Headers.IfNoneMatch = first.Headers.ETag.ToString());

        Assert.Equal(200, first.Status);
        Assert.Equal(304, again.Status);
        Assert.Empty(again.Body);
        Assert.NotEmpty(recorder.Requests);
        Assert.DoesNotContain(recorder.Requests, r => r.Uri.AbsolutePath.Contains("Recipients", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Csv_of_a_small_tag_is_byte_identical_to_the_answer_before_paging()
    {
        await using var app = await AppHarness.StartAsync(azurite);
        var tag = Tag.Parse("csv-small");
        var at = new DateTimeOffset(2018, 2, 7, 7, 38, 31, TimeSpan.Zero);
        // Storage keys order these numbers differently from number order (base64url): the answer must not show it.
        Recipient[] recipients =
        [
            new("+33600000009", 0, DeliveryStatus.Delivered, "Delivered", false, at),
            new("+33600000004", 0, DeliveryStatus.Waiting, "Waiting", false, null),
            new("+33600000004", 1, DeliveryStatus.NotDelivered, "Not delivered", true, at.AddSeconds(5)),
            new("+33600,0001", 0, DeliveryStatus.Delivered, "Delivered", false, at),
            new("+33600\"0002", 0, DeliveryStatus.Unknown, "", false, null),
            new("0033600000010", 0, DeliveryStatus.Delivered, "Delivered", false, at.AddHours(1)),
            new("+33600000001", 0, DeliveryStatus.Delivered, "Delivered", false, at.AddHours(2)),
            new("+33600000000", 0, DeliveryStatus.Waiting, "Waiting", false, null),
        ];
        await StoreAsync(app, tag, recipients, TagState.Pending);

        var answer = await app.GetTagAsync(tag.Value, configure: r => r.Headers.Accept = "text/csv");

        // What RecipientCsv.Write answered before paging (main at 625278f) for these rows: number order, CRLF, UTF-8 without BOM.
        var before =
            "phoneNumber,status,stopSms,statusAt\r\n" +
            "\"+33600\"\"0002\",unknown,false,\r\n" +
            "\"+33600,0001\",delivered,false,2018-02-07T07:38:31Z\r\n" +
            "+33600000000,waiting,false,\r\n" +
            "+33600000001,delivered,false,2018-02-07T09:38:31Z\r\n" +
            "+33600000004,waiting,false,\r\n" +
            "+33600000004,notDelivered,true,2018-02-07T07:38:36Z\r\n" +
            "+33600000009,delivered,false,2018-02-07T07:38:31Z\r\n" +
            "0033600000010,delivered,false,2018-02-07T08:38:31Z\r\n";
        Assert.Equal(200, answer.Status);
        Assert.Equal("text/csv; charset=utf-8", answer.Headers.ContentType.ToString());
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(before), answer.Body);
        var storageOrder = (await app.Get<ITagStore>().GetRecipientPageAsync(tag, null, 1000, null, default)).Recipients.Select(r => r.PhoneNumber);
        Assert.NotEqual(recipients.Select(r => r.PhoneNumber).Order(StringComparer.Ordinal), storageOrder);
    }

    /// <summary>A settled tag as a refresh stores it: every tenth recipient not delivered, the rest delivered.</summary>
    private static Task StoreSettledAsync(AppHarness app, Tag tag, int count) =>
        StoreAsync(app, tag, [.. Enumerable.Range(0, count).Select(i => i % EveryTenthNotDelivered == 0
            ? new Recipient($"+336{i:D8}", 0, DeliveryStatus.NotDelivered, "Not delivered", false, new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero))
            : new Recipient($"+336{i:D8}", 0, DeliveryStatus.Delivered, "Delivered", false, new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero)))],
            TagState.Complete);

    /// <summary>Through the store's own write path, as a refresh stores a tag seen for the first time.</summary>
    private static async Task StoreAsync(AppHarness app, Tag tag, IReadOnlyList<Recipient> recipients, TagState state)
    {
        var now = app.Clock.GetUtcNow();
        var summary = new TagSummary(tag, state, TagCounts.Of(recipients), Tracked: false, now, now, state == TagState.Complete ? now : null, null,
            UpstreamTotal: recipients.Count, RecipientsVersion: RecipientsVersions.Of(recipients));
        await app.Get<ITagStore>().SaveRefreshAsync([.. recipients.Select(r => new RecipientWrite(r, null))], summary, null, [], default);
    }

    /// <summary>The token of the last 100 rows, found the way a caller would: following the pages (1,000 at a time to go faster).</summary>
    private static async Task<string> TokenOfLastPageAsync(AppHarness app, Tag tag)
    {
        var store = app.Get<ITagStore>();
        string? token = null;
        var seen = 0;
        while (seen < BigTag - 100)
        {
            var size = seen + 1000 <= BigTag - 100 ? 1000 : 100;
            var page = await store.GetRecipientPageAsync(tag, null, size, token, default);
            seen += page.Recipients.Count;
            token = page.ContinuationToken ?? throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"the pages ended after {seen} rows"));
        }

        return token!;
    }
}
