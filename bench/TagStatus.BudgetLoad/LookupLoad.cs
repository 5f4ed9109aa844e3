using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TagStatus.Api.Handlers;
using TagStatus.Core.Domain;
using TagStatus.Core.Storage;

/// <summary>
/// Lookup mode: many concurrent <c>GET /api/tags/{tag}</c> through the real handler, started together on "go", every
/// answer's status counted. What one instance sees when callers poll one stale tag.
/// </summary>
internal static class LookupLoad
{
    public static async Task<int> RunAsync(IServiceProvider services, Tag tag, IConfiguration configuration)
    {
        var lookups = int.Parse(configuration["Load:Lookups"] ?? "50", System.Globalization.CultureInfo.InvariantCulture);
        var store = services.GetRequiredService<ITagStore>();
        if (configuration["Load:Prepare"] == "true")
        {
            await StoreStaleAsync(store, tag);
        }
        else
        {
            await store.GetSummaryAsync(tag, CancellationToken.None); // the tables, created once per process
        }

        var handler = services.GetRequiredService<TagLookupHandler>();
        Console.WriteLine("ready");
        await Console.In.ReadLineAsync();

        var statuses = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, lookups).Select(_ => Task.Run(async () =>
        {
            var status = await GetAsync(handler, tag);
            statuses.AddOrUpdate(status.ToString(System.Globalization.CultureInfo.InvariantCulture), 1, (_, n) => n + 1);
        })));

        Console.WriteLine(JsonSerializer.Serialize(new LoadSummary(lookups, 0, clock.Elapsed.TotalSeconds, [], new Dictionary<string, int>(statuses))));
        return 0;
    }

    private static async Task<int> GetAsync(TagLookupHandler handler, Tag tag)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("localhost");
        context.Request.Path = "/api/tags/" + tag.Value;
        context.Response.Body = Stream.Null;
        try
        {
            var result = await handler.GetAsync(context.Request, tag.Value, CancellationToken.None);
            await result.ExecuteResultAsync(new ActionContext { HttpContext = context });
            return context.Response.StatusCode;
        }
        catch (Exception e)
        {
            // What the host would answer for an unhandled exception.
            await Console.Error.WriteLineAsync(e.ToString());
            return StatusCodes.Status500InternalServerError;
        }
    }

    /// <summary>The tag as a read an hour ago left it: pending, 40 waiting recipients, so every lookup finds it stale.</summary>
    private static async Task StoreStaleAsync(ITagStore store, Tag tag)
    {
        var hourAgo = DateTimeOffset.UtcNow.AddHours(-1);
        var recipients = Enumerable.Range(1, 40)
            .Select(i => new Recipient($"+336{i:D8}", 0, DeliveryStatus.Waiting, "Waiting", false, null))
            .ToList();
        var summary = new TagSummary(tag, TagState.Pending, TagCounts.Of(recipients), Tracked: false, hourAgo, hourAgo, null, null,
            UpstreamTotal: recipients.Count, RecipientsVersion: RecipientsVersions.Of(recipients));
        await store.SaveRefreshAsync([.. recipients.Select(r => new RecipientWrite(r, null))], summary, null, [], CancellationToken.None);
    }
}
