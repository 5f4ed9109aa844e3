using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TagStatus.EndToEndTests;

/// <summary>
/// One callback as it arrived: the raw body bytes (what the signature covers), the headers that matter, and the status
/// the receiver answered it with.
/// </summary>
public sealed record ReceivedCallback(byte[] Body, string? Signature, string? EventId, string? ContentType, int AnsweredStatus, string? Timestamp = null);

/// <summary>
/// A subscriber's endpoint: Kestrel on 127.0.0.1 and a free port, answering 204 (or 500 to its first few POSTs, to be
/// retried) and keeping every POST. The app may
/// call it over plain http on loopback only because the stack sets <c>Callbacks__AllowInsecureUrls=true</c>.
/// </summary>
public sealed class CallbackReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<ReceivedCallback> _received = Channel.CreateUnbounded<ReceivedCallback>();

    private CallbackReceiver(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public static async Task<CallbackReceiver> StartAsync(int failFirst = 0)
    {
        var failuresLeft = failFirst;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var receiver = new CallbackReceiver(builder.Build());
        receiver._app.MapPost("/hook", async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            var headers = context.Request.Headers;
            var status = Interlocked.Decrement(ref failuresLeft) >= 0 ? StatusCodes.Status500InternalServerError : StatusCodes.Status204NoContent;
            await receiver._received.Writer.WriteAsync(new ReceivedCallback(
                buffer.ToArray(), headers["webhook-signature"].FirstOrDefault(), headers["webhook-id"].FirstOrDefault(), context.Request.ContentType, status,
                headers["webhook-timestamp"].FirstOrDefault()));
            return Results.StatusCode(status);
        });
        await receiver._app.StartAsync();
        var address = receiver._app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        receiver.Url = new Uri(new Uri(address), "/hook");
        return receiver;
    }

    /// <summary>
    /// The next callback, or a failure after <paramref name="timeout"/>. Runs the timer while it waits, since callbacks
    /// go out from its runs (on the real host the timer runs only when asked: <see cref="E2e.RunTimerAsync"/>).
    /// </summary>
    public async Task<ReceivedCallback> NextAsync(TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            await E2e.RunTimerAsync();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            try
            {
                return await _received.Reader.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                // Nothing yet: run the timer again.
            }
        }

        throw new TimeoutException($"No callback reached {Url} within {timeout.TotalSeconds} s.");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
