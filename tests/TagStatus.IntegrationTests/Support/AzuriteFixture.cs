using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Azure.Data.Tables;

namespace TagStatus.IntegrationTests.Support;

/// <summary>
/// Real Table Storage: the Azurite the test script started (TAGSTATUS_STORAGE), or, when a test is run on its own,
/// an Azurite this fixture starts on a free loopback port and stops by PID.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private Process? _azurite;

    public string ConnectionString { get; private set; } = string.Empty;

    public TableServiceClient Service => new(ConnectionString);

    /// <summary>An Azurite someone else started and stops (the fault suite's, which it kills and restarts).</summary>
    public static AzuriteFixture Using(string connectionString) => new() { ConnectionString = connectionString };

    public async Task InitializeAsync()
    {
        var provided = Environment.GetEnvironmentVariable("TAGSTATUS_STORAGE");
        if (!string.IsNullOrWhiteSpace(provided))
        {
            ConnectionString = provided;
            return;
        }

        var executable = Path.Combine(RepoPaths.Root, "node_modules", ".bin", "azurite-table");
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException("Azurite is not installed: run 'npm ci' at the repository root, or use scripts/test.sh.");
        }

        var port = FreePort();
        _azurite = Process.Start(new ProcessStartInfo(executable)
        {
            ArgumentList = { "--tableHost", "127.0.0.1", "--tablePort", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--inMemoryPersistence", "--silent", "--disableTelemetry", "--skipApiVersionCheck" },
            // Not redirected: nobody reads the pipes, and a full one would stall Azurite.
            RedirectStandardOutput = false,
            RedirectStandardError = false,
        }) ?? throw new InvalidOperationException("Azurite did not start.");

        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";
        await WaitForPortAsync(port, TimeSpan.FromSeconds(60));
    }

    public Task DisposeAsync()
    {
        if (_azurite is { HasExited: false })
        {
            _azurite.Kill(entireProcessTree: true);
            _azurite.WaitForExit(10_000);
        }

        _azurite?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>A table prefix no other test uses, so tests share one Azurite without seeing each other's rows.</summary>
    public static string UniquePrefix() => "t" + Guid.NewGuid().ToString("N")[..12];

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitForPortAsync(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
