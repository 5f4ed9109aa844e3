using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TagStatus.Api;
using TagStatus.Core.Domain;
using TagStatus.Core.Refresh;
using TagStatus.Core.Storage;

namespace TagStatus.Benchmarks;

/// <summary>
/// One 100,000-recipient tag read in steps, stored and completed, end to end against a simulator and Azurite that run
/// in their own processes (bench/bigtag.sh starts them), so this process's working set is the app's alone. Not a
/// BenchmarkDotNet class: it is one long run, measured once, next to the Azurite ceiling measured in the same run.
/// </summary>
public static class BigTagRun
{
    public static async Task<int> RunAsync(string simulatorUrl, string storage, int recipients, int pageSize)
    {
        var tag = Tag.Parse($"big-{pageSize}");
        using var admin = new HttpClient { BaseAddress = new Uri(simulatorUrl.TrimEnd('/') + "/") };
        (await admin.PutAsJsonAsync("_admin/paging", new { pageSize })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync($"_admin/tags/{tag}", new { generate = new { count = recipients, waitingRatio = 0.0, seed = 7 } })).EnsureSuccessStatusCode();

        var prefix = "b" + Guid.NewGuid().ToString("N")[..10];
        await using var services = Compose(simulatorUrl, storage, prefix);
        var stepwise = services.GetRequiredService<StepwiseRefresher>();
        var store = services.GetRequiredService<ITagStore>();

        using var process = Process.GetCurrentProcess();
        GC.Collect();
        process.Refresh();
        var baseline = process.WorkingSet64;
        var allocatedBefore = GC.GetTotalAllocatedBytes();
        var watch = Stopwatch.StartNew();
        var steps = 0;
        RefreshProgress progress;
        // The working set sampled every 20 ms: its peak while the pass is read (steps that end open) and in the last step.
        // BIGTAG_TRACE=/tmp/trace writes /tmp/trace-1000.csv and /tmp/trace-20.csv (one process a page size).
        using var sampler = new WorkingSetSampler(Environment.GetEnvironmentVariable("BIGTAG_TRACE") is { Length: > 0 } trace ? $"{trace}-{pageSize}.csv" : null);
        do
        {
            progress = await stepwise.StepAsync(tag, await store.GetSummaryAsync(tag, default), followUp: steps > 0, RefreshReason.Scheduled, default);
            steps++;
            if (progress is RefreshProgress.Continued)
            {
                sampler.Mark();
            }
        }
        while (progress is RefreshProgress.Continued);

        var (readingPeak, lastStepPeak) = sampler.Stop();
        // The kernel's own high-water mark so far (Linux): not sampled, so no spike between two samples escapes it (it is
        // updated lazily, and can trail the samples by a little).
        var refreshHighWater = HighWaterMark();

        var total = watch.Elapsed;
        var refreshAllocated = GC.GetTotalAllocatedBytes() - allocatedBefore;
        var completed = (RefreshProgress.Completed)progress;
        process.Refresh();
        var stored = completed.Result.RowsWritten;
        var summary = completed.Result.Snapshot.Summary;

        // The store phase alone, as the first refresh of a tag does it (every row new, range by range through the
        // refresher): rows/s through the app, against the ceiling of the same kind of transactions.
        var storedRows = await store.GetRecipientsAsync(tag, default);
        // What the last step holds before its first range: the pass's rows (new strings, as parsed from pages), the pass
        // counting them distinct, and its rows per number.
        var heapBeforeRows = GC.GetTotalMemory(forceFullCollection: true);
        var upstreamRows = storedRows.Select(r => new UpstreamRecipient(new string(r.Recipient.PhoneNumber), new string(r.Recipient.RawStatus), r.Recipient.StopSms, r.Recipient.StatusAt)).ToList();
        var heapBeforePass = GC.GetTotalMemory(forceFullCollection: true);
        var rowsHeld = heapBeforePass - heapBeforeRows;
        var pass = UpstreamPass.OnePage(upstreamRows, recipients);
        var perNumber = pass.WitnessedByNumber();
        var passHeld = GC.GetTotalMemory(forceFullCollection: true) - heapBeforePass;
        GC.KeepAlive(perNumber);
        // The ceiling and the store phase each fill an empty table of their own: Azurite's cost per row grows with the rows
        // a table already holds, so both are measured over the same 0 to 100,000 (measured one after the other in the
        // tag's month table, the store phase ran at 200,000 to 300,000 rows against a ceiling at 100,000 to 200,000).
        var ceilingTable = new TableServiceClient(storage).GetTableClient(prefix + "Ceiling");
        await ceilingTable.CreateIfNotExistsAsync();
        var ceilingAllocatedBefore = GC.GetTotalAllocatedBytes();
        var ceiling = await AzuriteCeilingAsync(ceilingTable, recipients);
        var ceilingAllocated = GC.GetTotalAllocatedBytes() - ceilingAllocatedBefore;
        await using var fresh = Compose(simulatorUrl, storage, "c" + Guid.NewGuid().ToString("N")[..10]);
        var copy = Tag.Parse($"copy-{pageSize}");
        var rewrite = Stopwatch.StartNew();
        var rewritten = (await fresh.GetRequiredService<TagRefresher>().SaveAsync(copy, pass, RefreshReason.Scheduled, default)).RowsWritten;
        var storeRate = rewritten / rewrite.Elapsed.TotalSeconds;

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            big tag: {recipients} recipients, {pageSize} a page, {completed.PagesRead} pages in {steps} steps of at most 50
              state {summary.State}, counts total {summary.Counts.Total}, upstream total {summary.UpstreamTotal}, partial {summary.Partial}
              whole refresh (read every page, merge, store): {total.TotalSeconds:F1} s, {stored} rows written
              working set: baseline {baseline / 1048576.0:F0} MB, now {process.WorkingSet64 / 1048576.0:F0} MB, peak {process.PeakWorkingSet64 / 1048576.0:F0} MB (sampled: {readingPeak / 1048576.0:F0} MB while the pass was read, {lastStepPeak / 1048576.0:F0} MB in the last step: merge and store; at that peak {sampler.PeakSplit}); high-water mark at the end of the refresh {refreshHighWater}
              GC heap: peak committed {sampler.PeakCommitted / 1048576.0:F0} MB, peak size {sampler.PeakHeap / 1048576.0:F0} MB, most kept by a full GC {sampler.PeakLive / 1048576.0:F0} MB; a pass of {recipients} rows holds {rowsHeld / 1048576.0:F1} MB of rows and {passHeld / 1048576.0:F1} MB of distinct counts and rows per number
              GC: {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}, latency mode {System.Runtime.GCSettings.LatencyMode} (Batch: no background GC), conserve memory {AppContext.GetData("System.GC.ConserveMemory") ?? Environment.GetEnvironmentVariable("DOTNET_GCConserveMemory") ?? "unset"}, gen0 size {Environment.GetEnvironmentVariable("DOTNET_GCgen0size") ?? "unset"}
              allocated by the refresh: {refreshAllocated / 1048576.0:F0} MB; by the ceiling's bare transactions of as many rows: {ceilingAllocated / 1048576.0:F0} MB
              store phase (a first refresh of the same rows through the refresher): {rewritten} rows in {rewrite.Elapsed.TotalSeconds:F2} s = {storeRate:F0} rows/s
              Azurite ceiling (100-entity single-partition transactions, one at a time, into an empty table as the store phase): {ceiling:F0} rows/s
              store rate / ceiling: {storeRate / ceiling:P0}
            """));
        return summary.State == TagState.Complete && summary.Counts.Total == recipients ? 0 : 1;
    }

    /// <summary>Megabytes, rounded to the nearest: every figure printed here, sampled or the kernel's, the same way.</summary>
    private static string Mb(long bytes) => (bytes / 1048576.0).ToString("F0", CultureInfo.InvariantCulture);

    /// <summary>Fields of /proc/self/status (Linux) whose names start with <paramref name="prefix"/>, in bytes.</summary>
    private static IEnumerable<(string Name, long Bytes)> ProcStatus(string prefix)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines("/proc/self/status");
        }
        catch (IOException)
        {
            yield break;
        }

        foreach (var line in lines.Where(line => line.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var parts = line.Split(':', StringSplitOptions.TrimEntries);
            yield return (parts[0], 1024 * long.Parse(parts[1].Split(' ')[0], CultureInfo.InvariantCulture));
        }
    }

    private static string HighWaterMark() => ProcStatus("VmHWM").Select(field => $"{Mb(field.Bytes)} MB").FirstOrDefault() ?? "n/a";

    /// <summary>
    /// The process's working set, sampled on a timer: the peak up to the last <see cref="Mark"/> and since, what it was made
    /// of at the last step's peak, and (with <c>BIGTAG_TRACE</c>) every sample in a CSV file.
    /// </summary>
    private sealed class WorkingSetSampler : IDisposable
    {
        private readonly Lock _gate = new(); // the timer's callbacks can overlap, and Mark and Stop sample on the caller's thread
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly StreamWriter? _trace;
        private readonly Timer _timer;
        private long _beforeMark;
        private long _sinceMark;
        private int _marks;
        private bool _stopped;

        /// <param name="tracePath">Where every sample goes as a CSV line, or null.</param>
        public WorkingSetSampler(string? tracePath)
        {
            if (tracePath is not null)
            {
                _trace = new StreamWriter(tracePath);
                _trace.WriteLine("ms,steps done,working set MB,GC committed MB,GC heap MB,gen0 GCs,gen2 GCs,anon MB,file MB,shmem MB,methods jitted,IL jitted KB");
            }

            _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(20));
        }

        public long PeakCommitted { get; private set; }

        public long PeakHeap { get; private set; }

        public long PeakLive { get; private set; }

        /// <summary>What the working set was made of at the last step's peak (Linux): anonymous (the GC heap and native memory), mapped files, shared memory (the JIT's code, mapped twice under W^X).</summary>
        public string PeakSplit { get; private set; } = "n/a";

        public void Mark()
        {
            lock (_gate)
            {
                _marks++;
                SampleLocked();
                _beforeMark = Math.Max(_beforeMark, _sinceMark);
                _sinceMark = 0;
            }
        }

        public (long BeforeMark, long SinceMark) Stop()
        {
            using (var stopped = new ManualResetEvent(false))
            {
                // Waits for a callback under way: none samples (or writes the trace) after this.
                _timer.Dispose(stopped);
                stopped.WaitOne();
            }

            lock (_gate)
            {
                SampleLocked();
                _stopped = true;
                _trace?.Dispose();
                return (_beforeMark, _sinceMark);
            }
        }

        public void Dispose()
        {
            if (!_stopped)
            {
                Stop();
            }
        }

        private void Sample()
        {
            lock (_gate)
            {
                if (!_stopped)
                {
                    SampleLocked();
                }
            }
        }

        private void SampleLocked()
        {
            var info = GC.GetGCMemoryInfo();
            // What the last full GC kept: the live data, not the garbage the heap carries between collections.
            PeakLive = Math.Max(PeakLive, Math.Max(GC.GetGCMemoryInfo(GCKind.Background).PromotedBytes, GC.GetGCMemoryInfo(GCKind.FullBlocking).PromotedBytes));
            PeakCommitted = Math.Max(PeakCommitted, info.TotalCommittedBytes);
            var heap = GC.GetTotalMemory(false);
            PeakHeap = Math.Max(PeakHeap, heap);
            var now = Environment.WorkingSet;
            var newPeak = now > _sinceMark;
            // Read only when printed: the sampler runs in the process it measures.
            var split = newPeak || _trace is not null ? ProcStatus("Rss").ToList() : [];
            if (newPeak)
            {
                _sinceMark = now;
                PeakSplit = string.Join(", ", split.Select(field => $"{field.Name[3..].ToLowerInvariant()} {Mb(field.Bytes)} MB")) + $"; GC heap committed {Mb(info.TotalCommittedBytes)} MB";
            }

            if (_trace is not null)
            {
                var columns = new[] { "RssAnon", "RssFile", "RssShmem" }.Select(name => split.FirstOrDefault(field => field.Name == name).Bytes).Select(Mb);
                _trace.WriteLine(string.Join(',', [
                    _clock.ElapsedMilliseconds.ToString(CultureInfo.InvariantCulture), _marks.ToString(CultureInfo.InvariantCulture), Mb(now), Mb(info.TotalCommittedBytes), Mb(heap),
                    GC.CollectionCount(0).ToString(CultureInfo.InvariantCulture), GC.CollectionCount(2).ToString(CultureInfo.InvariantCulture), .. columns,
                    System.Runtime.JitInfo.GetCompiledMethodCount().ToString(CultureInfo.InvariantCulture), (System.Runtime.JitInfo.GetCompiledILBytes() / 1024).ToString(CultureInfo.InvariantCulture)]));
            }
        }
    }

    internal static ServiceProvider Compose(string simulatorUrl, string storage, string prefix)
    {
        var settings = new Dictionary<string, string?>
        {
            ["TagStorage:ConnectionString"] = storage,
            ["TagStorage:TablePrefix"] = prefix,
            ["SmsPartner:BaseUrl"] = simulatorUrl.TrimEnd('/') + "/v1/",
            ["SmsPartner:ApiKey"] = "sim-key",
            // The app's own cost is measured here, not SMS Partner's limit: at 5 calls/s 5,000 pages take 17 minutes.
            ["SmsPartner:RequestsPerSecond"] = "1000",
            ["Callbacks:SigningKey"] = "bench-signing-key",
        };
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddTagStatusApi(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        return services.BuildServiceProvider();
    }

    /// <summary>Rows per second Azurite takes in 100-entity transactions of recipient-sized rows, sent one after another as the store does.</summary>
    private static async Task<double> AzuriteCeilingAsync(TableClient table, int rows)
    {
        var watch = Stopwatch.StartNew();
        foreach (var chunk in Enumerable.Range(0, rows).Chunk(100))
        {
            await table.SubmitTransactionAsync(chunk.Select(i => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("ceiling", i.ToString("D7", CultureInfo.InvariantCulture))
            {
                ["PhoneNumber"] = "+33600000000",
                ["Occurrence"] = 0,
                ["Status"] = "delivered",
                ["RawStatus"] = "Delivered",
                ["StopSms"] = false,
                ["StatusAt"] = DateTimeOffset.UnixEpoch,
            })));
        }

        return rows / watch.Elapsed.TotalSeconds;
    }
}
