using System.Text.Json;
using System.Xml.Linq;
using TagStatus.Tests.Functions;

namespace TagStatus.Tests.Composition;

/// <summary>The app's processes run with the runtime settings of src/AppRuntime.props (bench/README.md says why).</summary>
public sealed class RuntimeSettingsTests
{
    [Fact]
    public void The_functions_worker_runs_with_the_memory_settings_the_big_tag_bench_measured()
    {
        // The SDK copies a referenced executable's runtimeconfig next to this test, as the build makes it for publishing.
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TagStatus.Functions.runtimeconfig.json")));

        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.Equal(7, properties.GetProperty("System.GC.ConserveMemory").GetInt32());
        Assert.False(properties.GetProperty("System.Runtime.TieredPGO").GetBoolean());
        Assert.False(properties.TryGetProperty("System.GC.Server", out var server) && server.GetBoolean(), "server GC raised the big tag's peak by half (bench/README.md)");
    }

    [Theory]
    [InlineData("src/TagStatus.Functions/TagStatus.Functions.csproj", "../AppRuntime.props")]
    [InlineData("src/TagStatus.LocalHost/TagStatus.LocalHost.csproj", "../AppRuntime.props")]
    [InlineData("bench/TagStatus.Benchmarks/TagStatus.Benchmarks.csproj", "../../src/AppRuntime.props")]
    public void The_local_host_and_the_bench_run_with_the_workers_settings(string project, string import)
    {
        // The worker's runtimeconfig above proves the file takes effect; these import the same file.
        var imports = XDocument.Load(Path.Combine(FunctionsMetadata.RepositoryRoot(), project)).Descendants("Import")
            .Select(element => element.Attribute("Project")?.Value.Replace('\\', '/'));

        Assert.Contains(import, imports);
    }
}
