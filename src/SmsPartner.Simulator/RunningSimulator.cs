using System.Globalization;

namespace SmsPartner.Simulator;

/// <summary>A simulator started in-process by <see cref="SimulatorApp.StartAsync(SimulatorOptions?, CancellationToken)"/>. Dispose to stop it.</summary>
public sealed class RunningSimulator : IAsyncDisposable
{
    internal RunningSimulator(WebApplication app, Uri rootUri)
    {
        App = app;
        RootUri = rootUri;
        BaseUri = new Uri(rootUri, "v1/");
        AdminUri = new Uri(rootUri, "_admin/");
        State = app.Services.GetRequiredService<SimulatorState>();
        ApiKey = app.Services.GetRequiredService<SimulatorOptions>().ApiKey;
    }

    /// <summary>The running app (its <c>Services</c> hold <see cref="SimulatorState"/> and <see cref="SimulatorOptions"/>).</summary>
    public WebApplication App { get; }

    /// <summary><c>http://127.0.0.1:{port}/</c>.</summary>
    public Uri RootUri { get; }

    /// <summary><c>http://127.0.0.1:{port}/v1/</c>, as the real <c>https://api.smspartner.fr/v1/</c> (trailing slash).</summary>
    public Uri BaseUri { get; }

    /// <summary><c>http://127.0.0.1:{port}/_admin/</c>.</summary>
    public Uri AdminUri { get; }

    /// <summary>The key accepted at start (<see cref="SimulatorOptions.ApiKey"/>); rotation does not change this property.</summary>
    public string ApiKey { get; }

    /// <summary>The in-memory state: drive tags, keys, faults, clock and stats without HTTP.</summary>
    public SimulatorState State { get; }

    /// <summary>The status URL for a tag: <c>{BaseUri}bulk-status-by-tag?apiKey=…&amp;tag=…[&amp;page=…]</c>; the start key when <paramref name="apiKey"/> is null.</summary>
    public Uri StatusUri(string tag, int? page = null, string? apiKey = null)
    {
        var query = $"bulk-status-by-tag?apiKey={Uri.EscapeDataString(apiKey ?? ApiKey)}&tag={Uri.EscapeDataString(tag)}";
        if (page is { } p)
        {
            query += "&page=" + p.ToString(CultureInfo.InvariantCulture);
        }

        return new Uri(BaseUri, query);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await App.StopAsync();
        }
        finally
        {
            await App.DisposeAsync();
        }
    }
}
