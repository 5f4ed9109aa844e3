using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace TagStatus.KeyVaultTests;

/// <summary>One token request the identity endpoint saw.</summary>
internal sealed record TokenRequest(string? Resource, string? ApiVersion, string? ClientId, string? IdentityHeader, string IssuedToken);

/// <summary>
/// Plays the App Service / Functions managed-identity endpoint (<c>IDENTITY_ENDPOINT</c>, <c>IDENTITY_HEADER</c>,
/// api-version 2019-08-01) on http://127.0.0.1:{port}. Tokens are <c>mi-{client id}-{n}</c>, so a test can tell which
/// identity a vault request came from.
/// </summary>
internal sealed class FakeManagedIdentityEndpoint : IAsyncDisposable
{
    public const string Path = "/msi/token";

    private readonly WebApplication _app;
    private int _issued;

    private FakeManagedIdentityEndpoint(WebApplication app) => _app = app;

    public Uri Endpoint { get; private set; } = null!;

    /// <summary>The secret the platform shares with the app through <c>IDENTITY_HEADER</c>.</summary>
    public string IdentityHeader { get; } = Guid.NewGuid().ToString("N");

    public ConcurrentQueue<TokenRequest> Requests { get; } = new();

    /// <summary>Client ids that get 400 "identity not found", as an identity not assigned to the app.</summary>
    public ConcurrentDictionary<string, bool> UnknownClientIds { get; } = new();

    public static async Task<FakeManagedIdentityEndpoint> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var endpoint = new FakeManagedIdentityEndpoint(app);
        app.Run(endpoint.HandleAsync);
        await app.StartAsync();
        endpoint.Endpoint = new Uri(app.Urls.Single() + Path);
        return endpoint;
    }

    public IEnumerable<TokenRequest> RequestsFor(string clientId) => Requests.Where(r => r.ClientId == clientId);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var query = context.Request.Query;
        string? resource = query["resource"];
        string? apiVersion = query["api-version"];
        string? clientId = query["client_id"];
        string? header = context.Request.Headers["X-IDENTITY-HEADER"];
        var token = $"mi-{clientId ?? "system"}-{Interlocked.Increment(ref _issued)}";

        context.Response.ContentType = "application/json";
        if (context.Request.Path != Path || header != IdentityHeader || apiVersion != "2019-08-01" || string.IsNullOrEmpty(resource))
        {
            Requests.Enqueue(new TokenRequest(resource, apiVersion, clientId, header, ""));
            context.Response.StatusCode = 400;
            await context.Response.WriteAsync("""{"statusCode":400,"message":"Bad request to the fake identity endpoint."}""");
            return;
        }

        if (clientId is not null && UnknownClientIds.ContainsKey(clientId))
        {
            Requests.Enqueue(new TokenRequest(resource, apiVersion, clientId, header, ""));
            context.Response.StatusCode = 400;
            await context.Response.WriteAsync("""{"statusCode":400,"message":"No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId."}""");
            return;
        }

        Requests.Enqueue(new TokenRequest(resource, apiVersion, clientId, header, token));
        await context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string?>
        {
            ["access_token"] = token,
            ["expires_on"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["resource"] = resource,
            ["token_type"] = "Bearer",
            ["client_id"] = clientId,
        }));
    }
}

/// <summary>
/// Starts the identity endpoint once and points <c>IDENTITY_ENDPOINT</c>/<c>IDENTITY_HEADER</c> at it for the whole
/// collection: the variables are process-wide, and the credential's token cache is too, so the tests that use it run
/// one at a time, each with its own client id.
/// </summary>
public sealed class ManagedIdentityFixture : IAsyncLifetime
{
    private static readonly string[] Variables =
        ["IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST"];

    private readonly Dictionary<string, string?> _saved = [];

    internal FakeManagedIdentityEndpoint Endpoint { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Endpoint = await FakeManagedIdentityEndpoint.StartAsync();
        foreach (var name in Variables)
        {
            _saved[name] = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, null);
        }

        Environment.SetEnvironmentVariable("IDENTITY_ENDPOINT", Endpoint.Endpoint.ToString());
        Environment.SetEnvironmentVariable("IDENTITY_HEADER", Endpoint.IdentityHeader);
    }

    public async Task DisposeAsync()
    {
        foreach (var (name, value) in _saved)
        {
            Environment.SetEnvironmentVariable(name, value);
        }

        await Endpoint.DisposeAsync();
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ManagedIdentityCollection : ICollectionFixture<ManagedIdentityFixture>
{
    public const string Name = "Managed identity (process-wide environment)";
}
