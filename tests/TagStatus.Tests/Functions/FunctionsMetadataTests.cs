using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using TagStatus.Functions;

namespace TagStatus.Tests.Functions;

public sealed class FunctionsMetadataTests
{
    private static readonly Lazy<FunctionsMetadata> Metadata = new(FunctionsMetadata.Load);

    [Fact]
    public void GetTag_is_an_http_get_on_tags_tag_behind_a_function_key()
    {
        var function = Metadata.Value.Function("GetTag");

        var trigger = function.Trigger;
        Assert.Equal("httpTrigger", trigger.Type);
        Assert.Equal("In", trigger.Direction);
        Assert.Equal("Function", trigger.AuthLevel);
        Assert.Equal(["get"], trigger.Methods);
        Assert.Equal("tags/{tag}", trigger.Route);
        Assert.Equal($"{typeof(TagLookupFunction).FullName}.{nameof(TagLookupFunction.RunAsync)}", function.EntryPoint);
        Assert.Equal("http", function.Binding("$return").Type);
    }

    [Fact]
    public void The_metadata_lists_exactly_the_functions_the_assembly_declares()
    {
        var declared = typeof(TagLookupFunction).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            .Select(m => m.GetCustomAttribute<FunctionAttribute>()?.Name)
            .OfType<string>()
            .Order(StringComparer.Ordinal);

        Assert.Equal(declared, Metadata.Value.FunctionNames.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_function_points_at_a_script_file_next_to_the_metadata()
    {
        var folder = Path.GetDirectoryName(Metadata.Value.FilePath)!;

        Assert.All(Metadata.Value.Functions, f => Assert.True(File.Exists(Path.Combine(folder, f.ScriptFile ?? "?")), $"{f.Name}: {f.ScriptFile} missing in {folder}"));
    }

    [Fact]
    public void The_metadata_is_read_from_the_build_configuration_of_the_tests()
    {
        var (configuration, framework) = FunctionsMetadata.BuildOfThisTestAssembly();

        Assert.Contains(configuration, new[] { "Debug", "Release" });
        Assert.Equal("net10.0", framework);
        Assert.EndsWith(Path.Combine("src", "TagStatus.Functions", "bin", configuration, framework, "functions.metadata"), Metadata.Value.FilePath, StringComparison.Ordinal);
    }

    [Fact]
    public void Asking_for_an_unknown_function_fails_with_the_names_it_has()
    {
        var e = Assert.Throws<KeyNotFoundException>(() => Metadata.Value.Function("NoSuchFunction"));

        Assert.Contains("GetTag", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_metadata_file_fails_with_a_message_saying_how_to_produce_it()
    {
        var missing = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "functions.metadata");

        var e = Assert.Throws<FileNotFoundException>(() => FunctionsMetadata.Load(missing));

        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
        Assert.Contains("Build src/TagStatus.Functions", e.Message, StringComparison.Ordinal);
    }
}
