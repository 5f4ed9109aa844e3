using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace TagStatus.IntegrationTests.Support;

/// <summary>A subscriber's endpoint on loopback that records every POST and answers from a script of status codes.</summary>
public sealed class CallbackReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<int> _script = new();

    private CallbackReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<ReceivedCallback> Received { get; } = new();

    public Uri Url => new(_app.Urls.First() + "/hook?sig=very-secret-signature");

    /// <summary>How long each POST is held, after it is recorded, before it is answered (a slow receiver).</summary>
    public TimeSpan Hold { get; set; }

    /// <summary>The next answers, in order; 200 once they run out.</summary>
    public void AnswerWith(params int[] statuses)
    {
        foreach (var status in statuses)
        {
            _script.Enqueue(status);
        }
    }

    public static async Task<CallbackReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new CallbackReceiver(app);
        app.MapPost("/hook", async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            receiver.Received.Enqueue(new ReceivedCallback(
                buffer.ToArray(),
                context.Request.Headers["webhook-id"].ToString(),
                context.Request.Headers["webhook-timestamp"].ToString(),
                context.Request.Headers["webhook-signature"].ToString()));
            try
            {
                await Task.Delay(receiver.Hold, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return Results.Empty; // the sender is gone
            }

            return Results.StatusCode(receiver._script.TryDequeue(out var status) ? status : 200);
        });
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record ReceivedCallback(byte[] Body, string EventId, string Timestamp, string Signature)
{
    /// <summary>
    /// True when one of the <c>v1,…</c> signatures is the one the StandardWebhooks package computes with
    /// <paramref name="secret"/> over this id, timestamp and body. (Its <c>Verify</c> also checks the timestamp
    /// against the real clock, which these tests move by hours; the unit tests check that part.)
    /// </summary>
    public bool IsSignedWith(string secret)
    {
        var timestamp = DateTimeOffset.FromUnixTimeSeconds(long.Parse(Timestamp, System.Globalization.CultureInfo.InvariantCulture));
        var expected = new StandardWebhooks.StandardWebhook(secret).Sign(EventId, timestamp, System.Text.Encoding.UTF8.GetString(Body));
        return Signature.Split(' ').Contains(expected, StringComparer.Ordinal);
    }
}
