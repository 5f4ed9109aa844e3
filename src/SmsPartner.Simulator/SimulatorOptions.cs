using System.Text.Json.Serialization;

namespace SmsPartner.Simulator;

/// <summary>
/// Start-up settings, bound from the <c>Simulator</c> configuration section (command line:
/// <c>--Simulator:PageSize=50</c>). Runtime changes go through <see cref="SimulatorState"/> or <c>/_admin</c>.
/// </summary>
public sealed class SimulatorOptions
{
    public const string SectionName = "Simulator";

    /// <summary>The API key accepted at start (<c>Simulator:ApiKey</c>). Rotate with <c>PUT /_admin/apikeys</c>.</summary>
    public string ApiKey { get; set; } = "sim-key";

    /// <summary>Rows per page of the status endpoint (<c>Simulator:PageSize</c>).</summary>
    public int PageSize { get; set; } = 20;

    /// <summary>Emulate an endpoint that ignores <c>page</c> and always answers page 1.</summary>
    public bool IgnorePage { get; set; }

    /// <summary>Send <c>total</c> and <c>currentPage</c> as JSON strings (<c>"total":"2"</c>), as the contact-list sibling does.</summary>
    public bool NumbersAsStrings { get; set; }

    /// <summary>Send <c>date</c> as a JSON number instead of the documented string of Unix seconds.</summary>
    public bool DateAsNumber { get; set; }

    /// <summary>How <c>stopSMS</c> is written: <c>bool</c> (documented), <c>int</c> (0/1) or <c>string</c> ("true"/"false").</summary>
    public StopSmsFormat StopSmsAs { get; set; } = StopSmsFormat.Bool;

    /// <summary>
    /// When false (default) failures (codes 1, 3, 4, 10) come with HTTP 200 and the error envelope.
    /// When true they come with 400 (codes 1, 3), 401 (code 10) or 404 (code 4).
    /// </summary>
    public bool FailuresUseHttpStatus { get; set; }

    /// <summary>A JSON seed file loaded at start (<c>--Simulator:SeedFile=path</c>); see docs/simulator.md.</summary>
    public string? SeedFile { get; set; }

    /// <summary>Seed the demo campaign (<c>demo</c>, <c>montag</c>) at start (<c>--Simulator:Demo=true</c>).</summary>
    public bool Demo { get; set; }

    /// <summary>The base clock (not bound from configuration). Defaults to <see cref="TimeProvider.System"/>.</summary>
    [JsonIgnore]
    public TimeProvider? TimeProvider { get; set; }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(ApiKey))
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(ApiKey)} must not be empty.");
        }

        if (PageSize < 1)
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(PageSize)} must be at least 1 (was {PageSize}).");
        }

        if (!Enum.IsDefined(StopSmsAs))
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(StopSmsAs)} must be bool, int or string.");
        }
    }
}

/// <summary>How the <c>stopSMS</c> field is written.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<StopSmsFormat>))]
public enum StopSmsFormat
{
    /// <summary><c>true</c>/<c>false</c>, as documented.</summary>
    [JsonStringEnumMemberName("bool")]
    Bool,

    /// <summary><c>0</c>/<c>1</c>.</summary>
    [JsonStringEnumMemberName("int")]
    Int,

    /// <summary><c>"true"</c>/<c>"false"</c>.</summary>
    [JsonStringEnumMemberName("string")]
    String,
}

/// <summary>The response shape of the status endpoint; change at run time with <see cref="SimulatorState.Paging"/>.</summary>
/// <param name="ShiftPerRequest">
/// Rows moved from the end of a tag's list to its front before each status request for the tag after the first (0: a
/// stable order). The order then moves under a reader as a newest-first list does: each page repeats rows of the page
/// before and rows are skipped, while <c>total</c> stays right.
/// </param>
public sealed record PagingSettings(
    int PageSize,
    bool IgnorePage = false,
    bool NumbersAsStrings = false,
    bool DateAsNumber = false,
    StopSmsFormat StopSmsAs = StopSmsFormat.Bool,
    int ShiftPerRequest = 0);
