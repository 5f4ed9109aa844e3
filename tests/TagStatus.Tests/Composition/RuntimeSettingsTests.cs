using System.Text.Json;

namespace TagStatus.Tests.Composition;

/// <summary>The worker ships with the runtime settings src/AppRuntime.props gives it (bench/README.md says why).</summary>
public sealed class RuntimeSettingsTests
{
    [Fact]
    public void The_functions_worker_conserves_memory_as_the_big_tag_bench_measured_it()
    {
        // The SDK copies a referenced executable's runtimeconfig next to this test, as the build makes it for publishing.
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TagStatus.Functions.runtimeconfig.json")));

        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.Equal(7, properties.GetProperty("System.GC.ConserveMemory").GetInt32());
        Assert.False(properties.TryGetProperty("System.GC.Server", out var server) && server.GetBoolean(), "server GC raised the big tag's peak by half (bench/README.md)");
    }
}
