// A load driver standing in for one Tag Status instance: it composes the app's services exactly as the hosts do
// (AddTagStatusCore: the SMS Partner client, its resilience pipeline and the shared budget in Table Storage), then
// reads one tag from as many callers as --Load:Workers says, as fast as the budget lets them.
//
// Protocol (tests/TagStatus.MultiInstanceTests drives four of these): prints "ready" once composed and warmed up by one
// read, waits for a line
// on stdin, loads for --Load:Seconds, then prints one JSON summary line and exits.
//
// --Load:Mode=lookups (issue 14) instead sends --Load:Lookups concurrent GET /api/tags/{tag} through the real handler
// at once, and counts the answers by status. With --Load:Prepare=true it first stores the tag as an hour-old pending
// read (so every lookup finds it stale), without reading SMS Partner.
//
//   dotnet bench/TagStatus.BudgetLoad/bin/Release/net10.0/TagStatus.BudgetLoad.dll \
//     --TagStorage:ConnectionString="$TAGSTATUS_STORAGE" --SmsPartner:BaseUrl=http://127.0.0.1:5005/v1/ \
//     --SmsPartner:ApiKey=sim-key --Load:Tag=load --Load:Workers=6 --Load:Seconds=60
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TagStatus.Api;
using TagStatus.Core;
using TagStatus.Core.Domain;
using TagStatus.Core.SmsPartner;

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders();
// Stdout carries the protocol; warnings and errors go to stderr.
builder.Logging.AddSimpleConsole().AddFilter(level => level >= LogLevel.Warning);
builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);

var tag = Tag.Parse(builder.Configuration["Load:Tag"] ?? "load");
var workers = int.Parse(builder.Configuration["Load:Workers"] ?? "6", System.Globalization.CultureInfo.InvariantCulture);
var duration = TimeSpan.FromSeconds(double.Parse(builder.Configuration["Load:Seconds"] ?? "60", System.Globalization.CultureInfo.InvariantCulture));

if (builder.Configuration["Load:Mode"] == "lookups")
{
    builder.Services.AddTagStatusApi(builder.Configuration);
    using var lookupHost = builder.Build();
    return await LookupLoad.RunAsync(lookupHost.Services, tag, builder.Configuration);
}

builder.Services.AddTagStatusCore(builder.Configuration);
using var host = builder.Build();
var client = host.Services.GetRequiredService<ISmsPartnerClient>();

// One read before the start (through the same budget), so the measured minute is a running instance, not JIT and
// first connections.
await client.GetStatusesByTagAsync(tag, CancellationToken.None);
Console.WriteLine("ready");
await Console.In.ReadLineAsync();

using var stop = new CancellationTokenSource(duration);
var reads = 0;
var pages = 0;
var failures = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
var clock = Stopwatch.StartNew();

await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
{
    while (!stop.IsCancellationRequested)
    {
        try
        {
            var report = await client.GetStatusesByTagAsync(tag, stop.Token);
            Interlocked.Increment(ref reads);
            Interlocked.Add(ref pages, report.PagesRead);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The run is over; a read cut short is not a failure.
        }
        catch (SmsPartnerException e)
        {
            failures.AddOrUpdate(e.GetType().Name, 1, (_, n) => n + 1);
        }
    }
})));

Console.WriteLine(JsonSerializer.Serialize(new LoadSummary(reads, pages, clock.Elapsed.TotalSeconds, new Dictionary<string, int>(failures))));
return 0;

/// <param name="Statuses">Lookup mode: how many answers had each HTTP status.</param>
internal sealed record LoadSummary(int Reads, int Pages, double Seconds, Dictionary<string, int> Failures, Dictionary<string, int>? Statuses = null);
