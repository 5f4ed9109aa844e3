using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SmsPartner.Simulator;
using TagStatus.Core.Domain;
using TagStatus.Core.Secrets;
using TagStatus.Core.SmsPartner;

namespace TagStatus.Benchmarks;

/// <summary>
/// <see cref="SmsPartnerClient"/> reading a whole tag from the in-process simulator over real loopback HTTP:
/// request building, Kestrel, sockets, parsing, mapping to <see cref="UpstreamRecipient"/>. The client is built
/// directly on a plain <see cref="HttpClient"/> (no resilience pipeline, no rate limiter: this measures the client,
/// not the politeness limit of 5 requests a second).
/// </summary>
/// <remarks>
/// The simulator runs in the benchmark process, so "Allocated" counts both sides of the wire: the client and
/// Kestrel answering it. <see cref="RawHttp"/> (same pages fetched as bytes, nothing parsed) shows the part
/// that is HTTP on both sides, and <see cref="ReadTagReplayed"/> (the same client on recorded answers from memory)
/// the client's own share.
/// </remarks>
[Config(typeof(ShortConfig))]
public class ClientBenchmarks
{
    private const string TagName = "bench";

    private RunningSimulator _sim = null!;
    private HttpClient _http = null!;
    private SmsPartnerClient _client = null!;
    private HttpClient _replayHttp = null!;
    private SmsPartnerClient _replayClient = null!;
    private Tag _tag;
    private int _pages;

    [Params("1000 rows / 50 pages of 20", "10000 rows / 10 pages of 1000")]
    public string Scenario { get; set; } = "";

    [GlobalSetup]
    public async Task Setup()
    {
        var (rows, pageSize) = Scenario.StartsWith("1000 ", StringComparison.Ordinal) ? (1_000, 20) : (10_000, 1_000);
        _pages = rows / pageSize;
        _sim = await SimulatorApp.StartAsync(new SimulatorOptions { PageSize = pageSize });

        // Half start Waiting and settle after a day: the answers stay identical for the whole run.
        _sim.State.GenerateTag(TagName, new GenerateSpec
        {
            Count = rows,
            WaitingRatio = 0.5,
            SettleAfterSecondsMin = 86_400,
            SettleAfterSecondsMax = 86_400,
            Seed = 42,
        });

        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) });
        _client = new SmsPartnerClient(
            _http,
            new FixedSecret(_sim.ApiKey),
            Options.Create(new SmsPartnerOptions { BaseUrl = _sim.BaseUri, MaxPages = 1000 }),
            TimeProvider.System,
            NullLogger<SmsPartnerClient>.Instance);
        _tag = Tag.Parse(TagName);

        // The same answers, recorded once and replayed from memory: the client's own cost without sockets or Kestrel.
        var recorded = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        for (var page = 1; page <= _pages; page++)
        {
            recorded[page.ToString(System.Globalization.CultureInfo.InvariantCulture)] = await _http.GetByteArrayAsync(_sim.StatusUri(TagName, page));
        }

        _replayHttp = new HttpClient(new ReplayHandler(recorded));
        _replayClient = new SmsPartnerClient(
            _replayHttp,
            new FixedSecret(_sim.ApiKey),
            Options.Create(new SmsPartnerOptions { BaseUrl = _sim.BaseUri, MaxPages = 1000 }),
            TimeProvider.System,
            NullLogger<SmsPartnerClient>.Instance);

        foreach (var report in new[] { await ReadTag(), await ReadTagReplayed() })
        {
            if (report.RowsRead.Count != rows || report.PagesRead != _pages || !report.IsFull)
            {
                throw new InvalidOperationException(
                    $"Benchmark setup: read {report.RowsRead.Count} rows over {report.PagesRead} pages, expected {rows} over {_pages}.");
            }
        }
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _http.Dispose();
        _replayHttp.Dispose();
        await _sim.DisposeAsync();
    }

    [Benchmark(Baseline = true, Description = "SmsPartnerClient.GetStatusesByTagAsync")]
    public Task<UpstreamPass> ReadTag() => _client.GetStatusesByTagAsync(_tag, CancellationToken.None);

    /// <summary>The same pages as bytes with a bare HttpClient: the HTTP floor (both sides), no JSON.</summary>
    [Benchmark(Description = "Raw HttpClient GET of the same pages")]
    public async Task<long> RawHttp()
    {
        long bytes = 0;
        for (var page = 1; page <= _pages; page++)
        {
            var body = await _http.GetByteArrayAsync(_sim.StatusUri(TagName, page));
            bytes += body.Length;
        }

        return bytes;
    }

    /// <summary>
    /// The same client on recorded answers served from memory: what "Allocated" shows here is the client's alone
    /// (request, response objects, parsing, mapping), since no simulator runs for it.
    /// </summary>
    [Benchmark(Description = "Same client, answers replayed from memory")]
    public Task<UpstreamPass> ReadTagReplayed() => _replayClient.GetStatusesByTagAsync(_tag, CancellationToken.None);

    private sealed class ReplayHandler(Dictionary<string, byte[]> pages) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var query = request.RequestUri!.Query;
            var page = query[(query.IndexOf("&page=", StringComparison.Ordinal) + "&page=".Length)..];
            var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { RequestMessage = request, Content = new ByteArrayContent(pages[page]) };
            response.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            return Task.FromResult(response);
        }
    }

    private sealed class FixedSecret(string value) : ISecretSource
    {
        public ValueTask<string> GetAsync(AppSecret secret, CancellationToken cancellationToken) => ValueTask.FromResult(value);

        public ValueTask<string> RefreshAsync(AppSecret secret, string refusedValue, CancellationToken cancellationToken) =>
            ValueTask.FromResult(value);
    }
}
