using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.FaultTests.Support;

/// <summary>
/// Azurite (blobs, queues, tables) with on-disk persistence in a temp folder, on ports that stay the same across
/// restarts, so it can be killed with SIGKILL mid-write and started again over the same files.
/// </summary>
public sealed class KillableAzurite : IAsyncDisposable
{
    /// <summary>Azurite's table store (LokiJS) writes its file at most this long after a change: what a kill may lose.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(5);

    private readonly string _folder = Directory.CreateTempSubdirectory("tagstatus-azurite-").FullName;
    private readonly int _port = AzuriteFixture.FreePort();
    private readonly int _blobPort = AzuriteFixture.FreePort();
    private readonly int _queuePort = AzuriteFixture.FreePort();
    private Process? _process;

    public string ConnectionString => $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:{_blobPort}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{_queuePort}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{_port}/devstoreaccount1;";

    public int Kills { get; private set; }

    public static async Task<KillableAzurite> StartAsync()
    {
        var azurite = new KillableAzurite();
        await azurite.RestartAsync();
        return azurite;
    }

    /// <summary>Starts Azurite over the same folder and port.</summary>
    public async Task RestartAsync()
    {
        var executable = Path.Combine(RepoPaths.Root, "node_modules", ".bin", "azurite");
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException("Azurite is not installed: run 'npm ci' at the repository root, or use scripts/test.sh.");
        }

        _process?.Dispose();
        _process = Process.Start(new ProcessStartInfo(executable)
        {
            ArgumentList =
            {
                "--tableHost", "127.0.0.1", "--tablePort", _port.ToString(CultureInfo.InvariantCulture),
                "--blobHost", "127.0.0.1", "--blobPort", _blobPort.ToString(CultureInfo.InvariantCulture),
                "--queueHost", "127.0.0.1", "--queuePort", _queuePort.ToString(CultureInfo.InvariantCulture),
                "--location", _folder, "--silent", "--disableTelemetry", "--skipApiVersionCheck",
            },
        }) ?? throw new InvalidOperationException("Azurite did not start.");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        foreach (var port in new[] { _port, _blobPort, _queuePort })
        {
            while (true)
            {
                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync(IPAddress.Loopback, port);
                    break;
                }
                catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
                {
                    await Task.Delay(100);
                }
            }
        }
    }

    /// <summary>SIGKILL: no flush, no goodbye.</summary>
    public void Kill()
    {
        _process!.Kill(); // SIGKILL on Linux
        _process.WaitForExit(10_000);
        Kills++;
    }

    public ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }

        _process?.Dispose();
        Directory.Delete(_folder, recursive: true);
        return ValueTask.CompletedTask;
    }
}
