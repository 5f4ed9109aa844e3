using System.Text.Json.Serialization;

namespace SmsPartner.Simulator;

/// <summary>The raw status strings the provider documents. Any other string may be seeded (e.g. "Queued").</summary>
public static class SmsStatuses
{
    public const string Delivered = "Delivered";
    public const string NotDelivered = "Not delivered";
    public const string Waiting = "Waiting";
}

/// <summary>One recipient to seed: the body of <c>PUT /_admin/tags/{tag}</c> holds a list of these.</summary>
public sealed class RecipientSeed
{
    public string PhoneNumber { get; set; } = "";

    /// <summary>The raw status shown until the row settles. Unknown strings are allowed.</summary>
    public string Status { get; set; } = SmsStatuses.Delivered;

    public bool StopSms { get; set; }

    /// <summary>If set, the row shows <see cref="FinalStatus"/> once the clock passes seeding time plus this.</summary>
    public int? SettleAfterSeconds { get; set; }

    /// <summary>The status after settling; <c>Delivered</c> when omitted.</summary>
    public string? FinalStatus { get; set; }

    /// <summary>Unix seconds shown in <c>date</c> before settling; the seeding time when omitted.</summary>
    [JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)]
    public long? Date { get; set; }
}

/// <summary>Generates recipients <c>+33600000001</c>, <c>+33600000002</c>, … deterministically from <see cref="Seed"/>.</summary>
public sealed class GenerateSpec
{
    public int Count { get; set; }

    /// <summary>Share of rows that start Waiting and settle later; the rest start final.</summary>
    public double WaitingRatio { get; set; } = 1.0;

    /// <summary>Share of rows whose final status is "Not delivered"; the rest end Delivered.</summary>
    public double NotDeliveredRatio { get; set; } = 0.1;

    public int SettleAfterSecondsMin { get; set; } = 10;

    public int SettleAfterSecondsMax { get; set; } = 120;

    /// <summary>
    /// Share of the waiting rows that are stragglers: they settle after <see cref="SettleAfterSecondsMax"/>, up to
    /// <see cref="StragglerSettleAfterSecondsMax"/> (a phone switched off for hours while most of a campaign lands in minutes).
    /// </summary>
    public double StragglerRatio { get; set; }

    public int StragglerSettleAfterSecondsMax { get; set; }

    /// <summary>Share of rows with <c>stopSMS</c> true.</summary>
    public double StopSmsRatio { get; set; }

    /// <summary>Random seed; a random one when omitted.</summary>
    public int? Seed { get; set; }

    /// <summary>Prefix of the generated numbers, followed by 8 digits.</summary>
    public string PhonePrefix { get; set; } = "+336";
}

/// <summary>The body of <c>PUT /_admin/tags/{tag}</c>: either explicit recipients or a generator.</summary>
public sealed class TagSeed
{
    public List<RecipientSeed>? Recipients { get; set; }

    public GenerateSpec? Generate { get; set; }
}

/// <summary>The seed file (<c>--Simulator:SeedFile=path</c>).</summary>
public sealed class SeedFile
{
    /// <summary>If present, replaces the accepted API keys.</summary>
    public List<string>? ApiKeys { get; set; }

    /// <summary>Tag name to its seed.</summary>
    public Dictionary<string, TagSeed> Tags { get; set; } = [];
}

/// <summary>One row as the status endpoint would show it now.</summary>
public sealed record StatusRow(string PhoneNumber, string Status, bool StopSms, long DateUnixSeconds);

internal sealed record SeededRecipient(
    string PhoneNumber,
    string Status,
    bool StopSms,
    long DateUnixSeconds,
    DateTimeOffset? SettleAt,
    string FinalStatus)
{
    public StatusRow Evaluate(DateTimeOffset now) =>
        SettleAt is { } at && now >= at
            ? new StatusRow(PhoneNumber, FinalStatus, StopSms, at.ToUnixTimeSeconds())
            : new StatusRow(PhoneNumber, Status, StopSms, DateUnixSeconds);
}

internal sealed record SeededTag(string Name, DateTimeOffset SeededAt, SeededRecipient[] Recipients)
{
    private long _requests;

    /// <summary>Counts a status request for the tag and returns how many came before it (for <see cref="PagingSettings.ShiftPerRequest"/>).</summary>
    public long CountRequest() => Interlocked.Increment(ref _requests) - 1;
}
