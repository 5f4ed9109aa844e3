using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace TagStatus.KeyVaultTests;

/// <summary>One request the fake vault saw. <see cref="BearerToken"/> is null for the unauthenticated challenge probe.</summary>
internal sealed record VaultRequest(string Method, string Path, string? ApiVersion, string? BearerToken, int Status);

/// <summary>
/// Plays Key Vault on https://127.0.0.1:{port}: answers an unauthenticated request with the bearer challenge,
/// then serves <c>GET /secrets/{name}[/{version}]</c> as the real service does. Records every request.
/// </summary>
internal sealed class FakeKeyVault : IAsyncDisposable
{
    public const string TenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    public const string Resource = "https://vault.azure.net";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, List<(string Version, string Value)>> _secrets = new();
    private volatile TaskCompletionSource? _hold;
    private bool _stopped;

    private FakeKeyVault(WebApplication app) => _app = app;

    public Uri VaultUri { get; private set; } = null!;

    public ConcurrentQueue<VaultRequest> Requests { get; } = new();

    /// <summary>When set, only this bearer token is accepted; any other gets 401.</summary>
    public string? ExpectedToken { get; set; }

    /// <summary>When true, every request gets 503, as a vault in trouble.</summary>
    public bool Unavailable { get; set; }

    /// <summary>Completes when a secret read has arrived and is being held (see <see cref="HoldReads"/>).</summary>
    public TaskCompletionSource ReadArrived { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Authenticated, successful secret reads: what a cache is meant to save.</summary>
    public int SecretReads => Requests.Count(r => r.BearerToken is not null && r.Status == 200);

    public static async Task<FakeKeyVault> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(TestCertificate.Certificate)));
        var app = builder.Build();
        var vault = new FakeKeyVault(app);
        app.Run(vault.HandleAsync);
        await app.StartAsync();
        vault.VaultUri = new Uri(app.Urls.Single() + "/");
        return vault;
    }

    /// <summary>Stores a new version of a secret; later reads get it.</summary>
    public string SetSecret(string name, string value)
    {
        var version = Guid.NewGuid().ToString("N");
        var versions = _secrets.GetOrAdd(name, _ => []);
        lock (versions)
        {
            versions.Add((version, value));
        }

        return version;
    }

    /// <summary>Holds secret reads until <see cref="ReleaseReads"/>, so concurrent callers overlap one read.</summary>
    public void HoldReads()
    {
        ReadArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void ReleaseReads() => _hold?.TrySetResult();

    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _app.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        ReleaseReads();
        await StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        string? token = null;
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            token = authorization["Bearer ".Length..];
        }

        var reply = await ReplyAsync(context.Request, token);

        // Record before answering: once the client has the answer, the request is on the list.
        Requests.Enqueue(new VaultRequest(request.Method, request.Path.Value ?? "", request.Query["api-version"], token, reply.Status));
        var response = context.Response;
        response.StatusCode = reply.Status;
        response.ContentType = "application/json; charset=utf-8";
        if (reply.Challenge is not null)
        {
            response.Headers.WWWAuthenticate = reply.Challenge;
        }

        await response.WriteAsync(reply.Body);
    }

    private sealed record Reply(int Status, string Body, string? Challenge = null);

    private async Task<Reply> ReplyAsync(HttpRequest request, string? token)
    {
        if (Unavailable)
        {
            return Error(503, "ServiceUnavailable", "The vault is unavailable.");
        }

        if (token is null || (ExpectedToken is not null && token != ExpectedToken))
        {
            // The Key Vault challenge: where to get a token, and for which resource.
            return Error(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.") with
            {
                Challenge = $"Bearer authorization=\"https://login.microsoftonline.com/{TenantId}\", resource=\"{Resource}\"",
            };
        }

        // /secrets/{name}, /secrets/{name}/ or /secrets/{name}/{version}
        var segments = (request.Path.Value ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (request.Method != "GET" || segments.Length is < 2 or > 3 || segments[0] != "secrets")
        {
            return Error(400, "BadParameter", "Not served by the fake vault.");
        }

        var name = segments[1];
        var wanted = segments.Length == 3 ? segments[2] : null;
        (string Version, string Value) found = default;
        if (_secrets.TryGetValue(name, out var versions))
        {
            lock (versions)
            {
                found = wanted is null ? versions[^1] : versions.FirstOrDefault(v => v.Version == wanted);
            }
        }

        if (found.Value is null)
        {
            return Error(404, "SecretNotFound", $"A secret with (name/id) {name} was not found in this key vault.");
        }

        if (_hold is { } hold)
        {
            ReadArrived.TrySetResult();
            await hold.Task;
        }

        var updated = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return new Reply(200, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["value"] = found.Value,
            ["id"] = $"{VaultUri}secrets/{name}/{found.Version}",
            ["attributes"] = new Dictionary<string, object>
            {
                ["enabled"] = true,
                ["created"] = updated,
                ["updated"] = updated,
                ["recoveryLevel"] = "Recoverable+Purgeable",
                ["recoverableDays"] = 90,
            },
            ["tags"] = new Dictionary<string, string>(),
        }));
    }

    private static Reply Error(int status, string code, string message) =>
        new(status, JsonSerializer.Serialize(new { error = new { code, message } }));
}
