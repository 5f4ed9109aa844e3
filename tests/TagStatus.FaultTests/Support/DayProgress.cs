using System.Diagnostics;
using System.Globalization;
using TagStatus.IntegrationTests.Support;
using Xunit.Abstractions;

namespace TagStatus.FaultTests.Support;

/// <summary>
/// A compressed day's progress line, once per simulated hour and every <c>DAY_PROGRESS_SECONDS</c> of wall time (60 by
/// default), so a long run shows where it is and a stopped one still leaves figures. Each line goes to the test output and,
/// when <c>DAY_PROGRESS_FILE</c> is set, is appended to that file at once (xUnit shows test output only at the end). It
/// says where the wall time went: per step of the minute (Stopwatch), CPU of this process (app, simulator, harness) and of
/// Azurite (<c>DAY_AZURITE_PID</c>, from /proc), and storage requests by kind since the last line.
/// </summary>
public sealed class DayProgress(ITestOutputHelper output, RecordingPolicy storage, int tagCount) : IDisposable
{
    public const string Sends = "send";
    public const string Timer = "timer";
    public const string Refreshes = "refresh";
    public const string Deliveries = "deliver";
    public const string Lookups = "lookups";
    public const string Checks = "checks";

    private static readonly string[] Steps = [Sends, Timer, Refreshes, Deliveries, Lookups, Checks];

    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private readonly Dictionary<string, TimeSpan> _spent = Steps.ToDictionary(s => s, _ => TimeSpan.Zero, StringComparer.Ordinal);
    private readonly TimeSpan _every = TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("DAY_PROGRESS_SECONDS"), CultureInfo.InvariantCulture, out var s) ? s : 60);
    private readonly string? _file = Environment.GetEnvironmentVariable("DAY_PROGRESS_FILE");
    private readonly int? _azuritePid = int.TryParse(Environment.GetEnvironmentVariable("DAY_AZURITE_PID"), CultureInfo.InvariantCulture, out var pid) ? pid : null;
    private readonly Lock _writing = new();
    private TimeSpan _lastReport;
    private string _step = "";
    private TimeSpan _stepStarted;
    private Timer? _heartbeat;

    /// <summary>
    /// Also writes a shorter line from a timer when a step runs longer than the interval (a big tag's first write can take
    /// minutes at full size), with the upstream calls <paramref name="upstreamCalls"/> counts so far.
    /// </summary>
    public void StartHeartbeat(Func<long> upstreamCalls) =>
        _heartbeat = new Timer(_ => Heartbeat(upstreamCalls()), null, _every, _every);

    public void Dispose() => _heartbeat?.Dispose();

    /// <summary>Stored rows per tag, as its summary last counted them.</summary>
    public Dictionary<string, int> RowsStored { get; } = new(StringComparer.Ordinal);

    public async Task TimeAsync(string step, Func<Task> work)
    {
        var started = Stopwatch.GetTimestamp();
        (_step, _stepStarted) = (step, _wall.Elapsed);
        await work();
        _spent[step] += Stopwatch.GetElapsedTime(started);
        _step = "";
    }

    public Task TimeAsync<T>(string step, Func<Task<T>> work) => TimeAsync(step, async () => { await work(); });

    public TimeSpan Wall => _wall.Elapsed;

    /// <summary>The simulated minute under way, for the heartbeat.</summary>
    public int Minute { get; set; }

    public bool IsWallDue => _wall.Elapsed - _lastReport >= _every;

    public bool IsDue(int simulatedMinutes) => simulatedMinutes % 60 == 0 || IsWallDue;

    public void Report(int simulatedMinutes, int sent, int settled, long upstreamCalls, long busiestMinute, double oldestDueAgeSeconds, int logRecords) =>
        Write(string.Create(CultureInfo.InvariantCulture,
            $"day progress: sim {simulatedMinutes / 60:D2}:{simulatedMinutes % 60:D2}, sent {sent}/{tagCount}, settled {settled}, rows stored {RowsStored.Values.Sum():N0}, " +
            $"upstream calls {upstreamCalls:N0} (busiest minute {busiestMinute}), oldest due age {oldestDueAgeSeconds:F0} s, wall {_wall.Elapsed.TotalSeconds:F0} s " +
            $"[{string.Join(", ", Steps.Select(step => $"{step} {_spent[step].TotalSeconds:F0}"))}] s; " +
            $"log records {logRecords:N0}; "));

    private void Heartbeat(long upstreamCalls)
    {
        var step = _step;
        if (step.Length > 0 && IsWallDue)
        {
            Write(string.Create(CultureInfo.InvariantCulture,
                $"day progress: sim {Minute / 60:D2}:{Minute % 60:D2}, in step {step} for {(_wall.Elapsed - _stepStarted).TotalSeconds:F0} s, upstream calls {upstreamCalls:N0}, wall {_wall.Elapsed.TotalSeconds:F0} s; "));
        }
    }

    /// <summary>Adds what every line carries (CPU, storage requests since the last line, load) and writes it out.</summary>
    private void Write(string head)
    {
        lock (_writing)
        {
            _lastReport = _wall.Elapsed;
            var requests = storage.Requests.ToArray();
            storage.Clear();
            var queries = requests.Count(r => r.Method == "GET" && r.Uri.AbsolutePath.EndsWith("()", StringComparison.Ordinal));
            var pointReads = requests.Count(r => r.Method == "GET") - queries;
            var batches = requests.Count(r => r.Uri.AbsolutePath.EndsWith("$batch", StringComparison.Ordinal));
            var line = head + string.Create(CultureInfo.InvariantCulture,
                $"cpu test {Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds:F0} s, azurite {AzuriteCpuSeconds()} s; " +
                $"storage since last line: {queries} queries, {pointReads} point reads, {batches} batches, {requests.Length - queries - pointReads - batches} other; " +
                $"load {LoadAverage()}");
            output.WriteLine(line);
            if (_file is not null)
            {
                File.AppendAllText(_file, line + Environment.NewLine);
            }
        }
    }

    /// <summary>User plus system CPU of the Azurite process, from /proc (clock ticks of 1/100 s on Linux).</summary>
    private string AzuriteCpuSeconds()
    {
        if (_azuritePid is not { } id || !File.Exists($"/proc/{id}/stat"))
        {
            return "?";
        }

        // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
        var stat = File.ReadAllText($"/proc/{id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (ticks / 100.0).ToString("F0", CultureInfo.InvariantCulture);
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
}
