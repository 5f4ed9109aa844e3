using System.Text.Json;
using BenchmarkDotNet.Attributes;
using SmsPartner.Simulator;
using TagStatus.Core.SmsPartner;

namespace TagStatus.Benchmarks;

/// <summary>
/// One page of <c>bulk-status-by-tag</c> deserialized with the client's own source-generated context
/// (<see cref="SmsPartnerJsonContext"/>, flexible converters included). The bytes are real simulator answers,
/// fetched once in setup, in the documented shape and in the "flexible" shape (numbers as strings, date as
/// a number, stopSMS as 0/1) that exercises the converters.
/// </summary>
[Config(typeof(ShortConfig))]
public class ParsingBenchmarks
{
    private byte[] _page = null!;

    [Params(20, 1000)]
    public int RowsPerPage { get; set; }

    [Params(false, true)]
    public bool FlexibleShape { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        await using var sim = await SimulatorApp.StartAsync(new SimulatorOptions
        {
            PageSize = RowsPerPage,
            NumbersAsStrings = FlexibleShape,
            DateAsNumber = FlexibleShape,
            StopSmsAs = FlexibleShape ? StopSmsFormat.Int : StopSmsFormat.Bool,
        });
        sim.State.GenerateTag("page", new GenerateSpec { Count = RowsPerPage, WaitingRatio = 0.5, Seed = 7 });
        using var http = new HttpClient();
        _page = await http.GetByteArrayAsync(sim.StatusUri("page", 1));

        var parsed = (StatusPage)Parse();
        if (parsed.Rows?.Count != RowsPerPage)
        {
            throw new InvalidOperationException($"Benchmark setup: expected {RowsPerPage} rows, parsed {parsed.Rows?.Count}.");
        }
    }

    [Benchmark(Baseline = true, Description = "Deserialize(byte[])")]
    public object Parse() => JsonSerializer.Deserialize(_page, SmsPartnerJsonContext.Default.StatusPage)!;

    /// <summary>The client's path: <c>DeserializeAsync</c> over a stream.</summary>
    [Benchmark(Description = "DeserializeAsync(Stream)")]
    public async Task<object> ParseStream()
    {
        using var stream = new MemoryStream(_page, writable: false);
        return (await JsonSerializer.DeserializeAsync(stream, SmsPartnerJsonContext.Default.StatusPage))!;
    }
}
