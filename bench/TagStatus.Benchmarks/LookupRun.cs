using System.Diagnostics;
using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using TagStatus.Api.Handlers;
using TagStatus.Core.Domain;
using TagStatus.Core.Lookup;
using TagStatus.Core.Storage;

namespace TagStatus.Benchmarks;

/// <summary>
/// Issue 14's figures for a stored 100,000-recipient tag in Azurite (bench/lookup.sh starts it): the time of a page of
/// 100 (page 1, the last page, a status filter) through the app, against a bare <see cref="TableClient"/> query of the
/// same 100 rows measured in the same run, alternately; and, in a process of its own, the working-set growth of its
/// whole CSV. Not BenchmarkDotNet classes: Azurite's time dominates, and the memory figure needs a fresh process.
/// </summary>
public static class LookupRun
{
    private const int Recipients = 100_000;
    private const int PageSize = 100;
    private const int Rounds = 40;
    private static readonly Tag BigTag = Tag.Parse("big-lookup");

    /// <summary>Seeds the tag under <paramref name="prefix"/> (skipped when it is there), then times the pages.</summary>
    public static async Task<int> PagesAsync(string storage, string prefix)
    {
        await using var services = BigTagRun.Compose("http://127.0.0.1:9/", storage, prefix);
        var store = services.GetRequiredService<ITagStore>();
        if (await store.GetSummaryAsync(BigTag, default) is null)
        {
            var seeding = Stopwatch.StartNew();
            await SeedAsync(store);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seeded {Recipients} recipients in {seeding.Elapsed.TotalSeconds:F1} s"));
        }

        var lookup = services.GetRequiredService<TagLookupService>();
        var handler = services.GetRequiredService<TagLookupHandler>();
        // The tag's own month table, as the store chose it on the first write.
        var month = (await store.GetSummaryAsync(BigTag, default))!.Summary.RecipientsMonth;
        var bare = new TableServiceClient(storage).GetTableClient(RecipientMonths.TableName(prefix, month));
        var partition = TableKeys.ForTag(BigTag);
        var lastToken = await TokenOfLastPageAsync(store);
        ListContinuation.TryRead(lastToken, out var lastRaw);
        var notDelivered = new HashSet<DeliveryStatus> { DeliveryStatus.NotDelivered };

        (string Name, Func<Task<int>> Bare, Func<Task<int>> Page, Func<Task<int>> Get)[] scenarios =
        [
            ("page 1", () => BareAsync(bare, $"PartitionKey eq '{partition}'", null), () => PageAsync(lookup, null, null), () => GetAsync(handler, "")),
            ("last page", () => BareAsync(bare, $"PartitionKey eq '{partition}'", lastRaw), () => PageAsync(lookup, null, lastToken), () => GetAsync(handler, "?continuationToken=" + Uri.EscapeDataString(lastToken))),
            ("status=notDelivered", () => BareAsync(bare, $"PartitionKey eq '{partition}' and (Status eq 'notDelivered')", null), () => PageAsync(lookup, notDelivered, null), () => GetAsync(handler, "?status=notDelivered")),
        ];

        Console.WriteLine($"{Recipients} stored recipients, pages of {PageSize}, {Rounds} rounds each (bare, page, GET alternately), after 5 warm-up rounds; medians");
        Console.WriteLine("| Scenario | Bare TableClient query | ReadPageAsync (store) | ratio | Whole GET (summary + page + JSON) | ratio |");
        Console.WriteLine("|---|---|---|---|---|---|");
        var worst = 0.0;
        foreach (var (name, bareQuery, page, get) in scenarios)
        {
            var times = (Bare: new List<double>(), Page: new List<double>(), Get: new List<double>());
            for (var round = -5; round < Rounds; round++)
            {
                var (b, p, g) = (await TimeAsync(bareQuery, PageSize), await TimeAsync(page, PageSize), await TimeAsync(get, 200));
                if (round >= 0)
                {
                    times.Bare.Add(b);
                    times.Page.Add(p);
                    times.Get.Add(g);
                }
            }

            var (mb, mp, mg) = (Median(times.Bare), Median(times.Page), Median(times.Get));
            worst = Math.Max(worst, mg / mb);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {mb:F2} ms | {mp:F2} ms | {mp / mb:F2}x | {mg:F2} ms | {mg / mb:F2}x |"));
        }

        return worst <= 1.5 ? 0 : 1;
    }

    /// <summary>The whole CSV of the tag seeded under <paramref name="prefix"/>, through the handler to a null stream, in this fresh process.</summary>
    public static async Task<int> CsvAsync(string storage, string prefix)
    {
        await using var services = BigTagRun.Compose("http://127.0.0.1:9/", storage, prefix);
        var handler = services.GetRequiredService<TagLookupHandler>();
        await GetAsync(handler, "?pageSize=1"); // composed, tables known, the JSON path warm

        using var process = Process.GetCurrentProcess();
        GC.Collect();
        process.Refresh();
        var baseline = process.WorkingSet64;
        var peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                process.Refresh();
                peak = Math.Max(peak, process.WorkingSet64);
                await Task.Delay(5);
            }
        });
        var counting = new CountingStream();
        var watch = Stopwatch.StartNew();
        var status = await GetAsync(handler, "", counting, csv: true);
        watch.Stop();
        await sampling.CancelAsync();
        await sampler;
        process.Refresh();
        var growth = Math.Max(peak, process.PeakWorkingSet64) - baseline;

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            CSV of {Recipients} recipients: status {status}, {counting.Lines - 1} rows, {counting.Bytes / 1048576.0:F1} MB in {watch.Elapsed.TotalSeconds:F2} s
              working set: baseline {baseline / 1048576.0:F0} MB, peak sampled {peak / 1048576.0:F0} MB, process peak {process.PeakWorkingSet64 / 1048576.0:F0} MB
              peak growth over the baseline: {growth / 1048576.0:F1} MB (target < 64 MB)
            """));
        return status == 200 && counting.Lines - 1 == Recipients && growth < 64L * 1048576 ? 0 : 1;
    }

    private static async Task SeedAsync(ITagStore store)
    {
        var at = new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero);
        var recipients = Enumerable.Range(0, Recipients)
            .Select(i => new Recipient($"+336{i:D8}", 0, i % 10 == 0 ? DeliveryStatus.NotDelivered : DeliveryStatus.Delivered, "x", false, at))
            .ToList();
        var summary = new TagSummary(BigTag, TagState.Complete, TagCounts.Of(recipients), Tracked: false, at, at, at, null,
            UpstreamTotal: Recipients, RecipientsVersion: RecipientsVersions.Of(recipients));
        await store.SaveRefreshAsync([.. recipients.Select(r => new RecipientWrite(r, null))], summary, null, [], default);
    }

    private static async Task<string> TokenOfLastPageAsync(ITagStore store)
    {
        string? token = null;
        for (var seen = 0; seen < Recipients - PageSize;)
        {
            var page = await store.GetRecipientPageAsync(BigTag, null, seen + 1000 <= Recipients - PageSize ? 1000 : PageSize, token, default);
            seen += page.Recipients.Count;
            token = page.ContinuationToken ?? throw new InvalidOperationException($"The pages ended after {seen} rows.");
        }

        return token!;
    }

    private static async Task<int> BareAsync(TableClient table, string filter, string? resumeAt)
    {
        var page = await table.QueryAsync<TableEntity>(filter, maxPerPage: PageSize).AsPages(resumeAt, PageSize).FirstAsync();
        return page.Values.Count;
    }

    private static async Task<int> PageAsync(TagLookupService lookup, IReadOnlySet<DeliveryStatus>? statuses, string? token) =>
        (await lookup.ReadPageAsync(BigTag, new RecipientQuery(statuses, PageSize, token), default)).Recipients.Count;

    private static async Task<int> GetAsync(TagLookupHandler handler, string query, Stream? body = null, bool csv = false)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("localhost");
        context.Request.Path = "/api/tags/" + BigTag.Value;
        context.Request.QueryString = new QueryString(query);
        if (csv)
        {
            context.Request.Headers.Accept = "text/csv";
        }

        context.Response.Body = body ?? Stream.Null;
        var result = await handler.GetAsync(context.Request, BigTag.Value, default);
        await result.ExecuteResultAsync(new ActionContext { HttpContext = context });
        return context.Response.StatusCode;
    }

    /// <summary>Milliseconds of one call, checked to have returned what it should.</summary>
    private static async Task<double> TimeAsync(Func<Task<int>> call, int expected)
    {
        var watch = Stopwatch.StartNew();
        var got = await call();
        var elapsed = watch.Elapsed.TotalMilliseconds;
        return got == expected ? elapsed : throw new InvalidOperationException($"A timed call returned {got}, not {expected}.");
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[(values.Count / 2) - 1] + values[values.Count / 2]) / 2;
    }

    /// <summary>A response body that keeps nothing: it counts bytes and lines.</summary>
    private sealed class CountingStream : Stream
    {
        public long Bytes { get; private set; }

        public long Lines { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Bytes;

        public override long Position { get => Bytes; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Bytes += buffer.Length;
            Lines += buffer.Count((byte)'\n');
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
