using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;

namespace SmsPartner.Simulator;

/// <summary>
/// Everything the simulator holds in memory: tags, accepted keys, queued faults, response shape, clock and
/// counters. Thread-safe. Reachable in-process as <see cref="RunningSimulator.State"/> or from DI.
/// </summary>
public sealed class SimulatorState
{
    private readonly ConcurrentDictionary<string, SeededTag> _tags = new(StringComparer.Ordinal);
    private readonly Lock _faultLock = new();
    private readonly List<FaultEntry> _faults = [];
    private readonly SimulatorOptions _initial;
    private FrozenSet<string> _validKeys;
    private PagingSettings _paging;
    private volatile bool _failuresUseHttpStatus;
    private Counters _counters = new();

    public SimulatorState(SimulatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _initial = options;
        Clock = new SimulatorClock(options.TimeProvider ?? TimeProvider.System);
        _validKeys = FrozenSet.ToFrozenSet([options.ApiKey], StringComparer.Ordinal);
        _paging = InitialPaging(options);
        _failuresUseHttpStatus = options.FailuresUseHttpStatus;
    }

    /// <summary>The simulator clock (base clock plus offset).</summary>
    public SimulatorClock Clock { get; }

    /// <summary>Now, on the simulator clock.</summary>
    public DateTimeOffset Now => Clock.GetUtcNow();

    /// <summary>The current response shape. Assign a new value (<c>state.Paging = state.Paging with { IgnorePage = true }</c>).</summary>
    public PagingSettings Paging
    {
        get => Volatile.Read(ref _paging);
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            ArgumentOutOfRangeException.ThrowIfLessThan(value.PageSize, 1, nameof(value.PageSize));
            ArgumentOutOfRangeException.ThrowIfNegative(value.ShiftPerRequest, nameof(value.ShiftPerRequest));
            if (!Enum.IsDefined(value.StopSmsAs))
            {
                throw new ArgumentException("stopSmsAs must be bool, int or string.", nameof(value));
            }

            Volatile.Write(ref _paging, value);
        }
    }

    /// <summary>False: failures come as HTTP 200. True: as 400 (codes 1, 3), 401 (10), 404 (4).</summary>
    public bool FailuresUseHttpStatus
    {
        get => _failuresUseHttpStatus;
        set => _failuresUseHttpStatus = value;
    }

    // ---- Tags ----------------------------------------------------------------------------------------

    /// <summary>Replaces the tag with these recipients (duplicates kept, order kept). Returns the row count.</summary>
    public int SeedTag(string tag, IEnumerable<RecipientSeed> recipients)
    {
        ValidateTag(tag);
        ArgumentNullException.ThrowIfNull(recipients);
        var now = Now;
        var rows = recipients.Select(r => ToSeeded(r, now)).ToArray();
        _tags[tag] = new SeededTag(tag, now, rows);
        return rows.Length;
    }

    /// <summary>Replaces the tag with generated recipients. Returns the row count.</summary>
    public int GenerateTag(string tag, GenerateSpec spec)
    {
        ValidateTag(tag);
        ArgumentNullException.ThrowIfNull(spec);
        var now = Now;
        var rows = Generate(spec, now);
        _tags[tag] = new SeededTag(tag, now, rows);
        return rows.Length;
    }

    /// <summary>Seeds from an admin/seed-file body: exactly one of recipients or generate.</summary>
    public int SeedTag(string tag, TagSeed seed)
    {
        ArgumentNullException.ThrowIfNull(seed);
        return (seed.Recipients, seed.Generate) switch
        {
            ({ } recipients, null) => SeedTag(tag, recipients),
            (null, { } generate) => GenerateTag(tag, generate),
            _ => throw new ArgumentException("Give exactly one of 'recipients' or 'generate'."),
        };
    }

    /// <summary>Removes a tag; later calls for it answer code 4. False if it was not there.</summary>
    public bool RemoveTag(string tag) => _tags.TryRemove(tag, out _);

    /// <summary>The seeded tags and their row counts.</summary>
    public IReadOnlyDictionary<string, int> Tags => _tags.ToDictionary(t => t.Key, t => t.Value.Recipients.Length, StringComparer.Ordinal);

    /// <summary>All rows of a tag as they read now on the simulator clock, or null for an unknown tag.</summary>
    public IReadOnlyList<StatusRow>? GetRows(string tag)
    {
        if (!_tags.TryGetValue(tag, out var seeded))
        {
            return null;
        }

        var now = Now;
        return Array.ConvertAll(seeded.Recipients, r => r.Evaluate(now));
    }

    internal bool TryGetTag(string tag, out SeededTag seeded) => _tags.TryGetValue(tag, out seeded!);

    // ---- API keys ------------------------------------------------------------------------------------

    /// <summary>Replaces the set of accepted keys (key rotation). An empty set refuses every key.</summary>
    public void SetValidKeys(IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var list = keys.ToList();
        if (list.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("API keys must not be empty.", nameof(keys));
        }

        Volatile.Write(ref _validKeys, list.ToFrozenSet(StringComparer.Ordinal));
    }

    /// <summary>How many keys are accepted (the keys themselves are never exposed).</summary>
    public int ValidKeyCount => Volatile.Read(ref _validKeys).Count;

    internal bool IsValidKey(string key) => Volatile.Read(ref _validKeys).Contains(key);

    // ---- Faults --------------------------------------------------------------------------------------

    /// <summary>Queues a fault for the next <see cref="FaultSpec.Count"/> matching calls (FIFO).</summary>
    public void QueueFault(FaultSpec fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        fault.Validate();
        lock (_faultLock)
        {
            _faults.Add(new FaultEntry(fault, fault.Count));
        }
    }

    /// <summary>Convenience: <c>QueueFault(new FaultSpec { Kind = kind, Count = count, Tag = tag })</c>.</summary>
    public void QueueFault(FaultKind kind, int count = 1, string? tag = null) =>
        QueueFault(new FaultSpec { Kind = kind, Count = count, Tag = tag });

    public void ClearFaults()
    {
        lock (_faultLock)
        {
            _faults.Clear();
        }
    }

    /// <summary>The faults still queued.</summary>
    public IReadOnlyList<PendingFault> PendingFaults
    {
        get
        {
            lock (_faultLock)
            {
                return _faults.Select(f => new PendingFault(f.Spec.Kind, f.Remaining, f.Spec.Tag)).ToList();
            }
        }
    }

    internal FaultSpec? TakeFault(string? tag, int page)
    {
        lock (_faultLock)
        {
            for (var i = 0; i < _faults.Count; i++)
            {
                var entry = _faults[i];
                if ((entry.Spec.Tag is not null && !string.Equals(entry.Spec.Tag, tag, StringComparison.Ordinal))
                    || (entry.Spec.Page is { } faultedPage && faultedPage != page))
                {
                    continue;
                }

                entry.Remaining--;
                if (entry.Remaining <= 0)
                {
                    _faults.RemoveAt(i);
                }

                return entry.Spec;
            }

            return null;
        }
    }

    // ---- Clock ---------------------------------------------------------------------------------------

    /// <summary>Moves the simulator clock forward (Waiting rows settle when it passes their settle time).</summary>
    public void AdvanceClock(TimeSpan by) => Clock.Advance(by);

    // ---- Stats ---------------------------------------------------------------------------------------

    /// <summary>Calls of the status endpoint since start or the last reset (faulted and refused calls included).</summary>
    public long StatusRequests => Interlocked.Read(ref Volatile.Read(ref _counters).StatusRequests);

    /// <summary>Calls of the status endpoint for one tag.</summary>
    public long StatusRequestsFor(string tag) =>
        Volatile.Read(ref _counters).ByTag.TryGetValue(tag, out var n) ? Interlocked.Read(ref n.Value) : 0;

    public StatsSnapshot GetStats()
    {
        var c = Volatile.Read(ref _counters);
        return new StatsSnapshot(
            Interlocked.Read(ref c.StatusRequests),
            c.ByTag.ToDictionary(p => p.Key, p => Interlocked.Read(ref p.Value.Value), StringComparer.Ordinal),
            c.KeysSeen.Count,
            Interlocked.Read(ref c.KeyRefusals),
            Interlocked.Read(ref c.FaultsServed));
    }

    public void ResetStats() => Volatile.Write(ref _counters, new Counters());

    /// <summary>
    /// Every call of the status endpoint since start or the last stats reset, in arrival order, with its arrival time on
    /// the simulator clock: what a rate limit is judged by. The newest <see cref="CallsKept"/> are kept.
    /// </summary>
    public IReadOnlyList<StatusCall> GetCalls() => [.. Volatile.Read(ref _counters).Calls];

    /// <summary>How many calls <see cref="GetCalls"/> remembers; older ones are dropped first.</summary>
    public const int CallsKept = 100_000;

    internal void RecordStatusRequest(string? tag, string? apiKey)
    {
        var c = Volatile.Read(ref _counters);
        Interlocked.Increment(ref c.StatusRequests);
        c.Record(new StatusCall(Now, tag ?? string.Empty));
        if (!string.IsNullOrEmpty(tag))
        {
            Interlocked.Increment(ref c.ByTag.GetOrAdd(tag, static _ => new Box()).Value);
        }

        if (!string.IsNullOrEmpty(apiKey))
        {
            // Only a digest is kept, so not even a heap dump of the counters shows a key.
            c.KeysSeen.TryAdd(Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey))), 0);
        }
    }

    internal void RecordKeyRefused() => Interlocked.Increment(ref Volatile.Read(ref _counters).KeyRefusals);

    internal void RecordFaultServed() => Interlocked.Increment(ref Volatile.Read(ref _counters).FaultsServed);

    // ---- Reset ---------------------------------------------------------------------------------------

    /// <summary>Back to start-up settings: no tags, no faults, zero counters, no clock offset, initial key and shape.</summary>
    public void Reset()
    {
        _tags.Clear();
        ClearFaults();
        ResetStats();
        Clock.Reset();
        SetValidKeys([_initial.ApiKey]);
        Paging = InitialPaging(_initial);
        FailuresUseHttpStatus = _initial.FailuresUseHttpStatus;
    }

    // ---- Helpers -------------------------------------------------------------------------------------

    private static PagingSettings InitialPaging(SimulatorOptions o) =>
        new(o.PageSize, o.IgnorePage, o.NumbersAsStrings, o.DateAsNumber, o.StopSmsAs);

    private static void ValidateTag(string tag)
    {
        if (string.IsNullOrWhiteSpace(tag))
        {
            throw new ArgumentException("The tag must not be empty.", nameof(tag));
        }
    }

    private static SeededRecipient ToSeeded(RecipientSeed r, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (string.IsNullOrWhiteSpace(r.PhoneNumber))
        {
            throw new ArgumentException("Every recipient needs a phoneNumber.");
        }

        if (string.IsNullOrEmpty(r.Status))
        {
            throw new ArgumentException($"Recipient {r.PhoneNumber} has an empty status.");
        }

        if (r.SettleAfterSeconds < 0)
        {
            throw new ArgumentException($"Recipient {r.PhoneNumber}: settleAfterSeconds must not be negative.");
        }

        DateTimeOffset? settleAt = r.SettleAfterSeconds is { } s ? now.AddSeconds(s) : null;
        return new SeededRecipient(
            r.PhoneNumber,
            r.Status,
            r.StopSms,
            r.Date ?? now.ToUnixTimeSeconds(),
            settleAt,
            string.IsNullOrEmpty(r.FinalStatus) ? SmsStatuses.Delivered : r.FinalStatus);
    }

    private static SeededRecipient[] Generate(GenerateSpec spec, DateTimeOffset now)
    {
        if (spec.Count is < 0 or > 10_000_000)
        {
            throw new ArgumentException("generate.count must be between 0 and 10000000.");
        }

        if (!IsRatio(spec.WaitingRatio) || !IsRatio(spec.NotDeliveredRatio) || !IsRatio(spec.StopSmsRatio) || !IsRatio(spec.StragglerRatio))
        {
            throw new ArgumentException("Ratios must be between 0 and 1.");
        }

        if (spec.SettleAfterSecondsMin < 0 || spec.SettleAfterSecondsMax < spec.SettleAfterSecondsMin)
        {
            throw new ArgumentException("Need 0 <= settleAfterSecondsMin <= settleAfterSecondsMax.");
        }

        if (spec.StragglerRatio > 0 && spec.StragglerSettleAfterSecondsMax <= spec.SettleAfterSecondsMax)
        {
            throw new ArgumentException("Stragglers need stragglerSettleAfterSecondsMax > settleAfterSecondsMax.");
        }

        var random = new Random(spec.Seed ?? Random.Shared.Next());
        var sentAt = now.ToUnixTimeSeconds();
        var rows = new SeededRecipient[spec.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            var final = random.NextDouble() < spec.NotDeliveredRatio ? SmsStatuses.NotDelivered : SmsStatuses.Delivered;
            var waiting = random.NextDouble() < spec.WaitingRatio;
            var settle = random.Next(spec.SettleAfterSecondsMin, spec.SettleAfterSecondsMax + 1);
            // Drawn only when stragglers are asked for, so the rows of every existing seed stay as they were.
            if (spec.StragglerRatio > 0 && random.NextDouble() < spec.StragglerRatio)
            {
                settle = random.Next(spec.SettleAfterSecondsMax + 1, spec.StragglerSettleAfterSecondsMax + 1);
            }

            var stop = random.NextDouble() < spec.StopSmsRatio;
            var phone = spec.PhonePrefix + (i + 1).ToString("D8", System.Globalization.CultureInfo.InvariantCulture);
            rows[i] = waiting
                ? new SeededRecipient(phone, SmsStatuses.Waiting, stop, sentAt, now.AddSeconds(settle), final)
                : new SeededRecipient(phone, final, stop, sentAt, null, final);
        }

        return rows;
    }

    private static bool IsRatio(double d) => d is >= 0 and <= 1;

    private sealed class FaultEntry(FaultSpec spec, int remaining)
    {
        public FaultSpec Spec { get; } = spec;

        public int Remaining { get; set; } = remaining;
    }

    private sealed class Box
    {
        public long Value;
    }

    private sealed class Counters
    {
        public long StatusRequests;
        public long KeyRefusals;
        public long FaultsServed;
        public readonly ConcurrentDictionary<string, Box> ByTag = new(StringComparer.Ordinal);
        public readonly ConcurrentDictionary<string, byte> KeysSeen = new(StringComparer.Ordinal);
        public readonly ConcurrentQueue<StatusCall> Calls = new();

        public void Record(StatusCall call)
        {
            Calls.Enqueue(call);
            while (Calls.Count > CallsKept && Calls.TryDequeue(out _))
            {
            }
        }
    }
}

/// <summary>One call of the status endpoint: when it arrived (simulator clock) and the tag it asked for (empty if none).</summary>
public sealed record StatusCall(DateTimeOffset At, string Tag);

/// <summary>Counters of the status endpoint. <see cref="ApiKeysSeen"/> is a count of distinct keys presented, never the keys.</summary>
public sealed record StatsSnapshot(
    long StatusRequests,
    IReadOnlyDictionary<string, long> ByTag,
    int ApiKeysSeen,
    long KeyRefusals,
    long FaultsServed);
