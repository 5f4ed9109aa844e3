using System.Text.Json;
using System.Text.Json.Nodes;

namespace TagStatus.Tests.Functions;

/// <summary>
/// The <c>functions.metadata</c> the Worker SDK writes at build time: what the Functions host would load. Read from
/// <c>src/TagStatus.Functions/bin/&lt;Configuration&gt;/&lt;tfm&gt;/</c> of the same configuration as this test build.
/// </summary>
internal sealed class FunctionsMetadata
{
    public const string FileName = "functions.metadata";

    private readonly Dictionary<string, FunctionEntry> _functions;

    private FunctionsMetadata(string path, IEnumerable<FunctionEntry> functions)
    {
        FilePath = path;
        _functions = functions.ToDictionary(f => f.Name, StringComparer.Ordinal);
    }

    public string FilePath { get; }

    public IReadOnlyCollection<string> FunctionNames => _functions.Keys;

    public IEnumerable<FunctionEntry> Functions => _functions.Values;

    /// <summary>Loads the file the Functions project built in the test's configuration; fails with a message saying how to produce it.</summary>
    public static FunctionsMetadata Load()
    {
        var (configuration, framework) = BuildOfThisTestAssembly();
        var path = Path.Combine(RepositoryRoot(), "src", "TagStatus.Functions", "bin", configuration, framework, FileName);
        return Load(path);
    }

    public static FunctionsMetadata Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"{FileName} was not found at {path}. Build src/TagStatus.Functions in the same configuration as the tests " +
                "(dotnet test builds it through the project reference); the Worker SDK writes the file at build time.", path);
        }

        var root = JsonNode.Parse(File.ReadAllText(path)) as JsonArray
            ?? throw new InvalidDataException($"{path} is not a JSON array of functions.");
        return new FunctionsMetadata(path, root.Select(node => FunctionEntry.From(node as JsonObject ?? throw new InvalidDataException($"{path} holds a function entry that is not an object."))));
    }

    public FunctionEntry Function(string name) =>
        _functions.TryGetValue(name, out var function)
            ? function
            : throw new KeyNotFoundException($"{FilePath} has no function '{name}'. It has: {string.Join(", ", _functions.Keys.Order(StringComparer.Ordinal))}.");

    public FunctionEntry? TryFunction(string name) => _functions.GetValueOrDefault(name);

    /// <summary>The folder holding <c>FunctionApp.sln</c>, walking up from the test's output folder.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FunctionApp.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No folder above {AppContext.BaseDirectory} holds FunctionApp.sln.");
    }

    /// <summary>Configuration and target framework of this test build, from its output path <c>…/bin/&lt;Configuration&gt;/&lt;tfm&gt;/</c>.</summary>
    public static (string Configuration, string Framework) BuildOfThisTestAssembly()
    {
        var assemblyDir = Path.GetDirectoryName(typeof(FunctionsMetadata).Assembly.Location) ?? AppContext.BaseDirectory;
        var parts = assemblyDir.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
        var bin = Array.LastIndexOf(parts, "bin");
        if (bin < 0 || bin + 2 >= parts.Length)
        {
            throw new InvalidOperationException($"The test assembly's folder {assemblyDir} is not of the form …/bin/<Configuration>/<tfm>/.");
        }

        return (parts[bin + 1], parts[bin + 2]);
    }
}

internal sealed record FunctionEntry(string Name, string? ScriptFile, string? EntryPoint, string? Language, IReadOnlyList<BindingEntry> Bindings)
{
    /// <summary>The one trigger binding (its type ends with <c>Trigger</c>).</summary>
    public BindingEntry Trigger =>
        Bindings.SingleOrDefault(b => b.Type.EndsWith("Trigger", StringComparison.OrdinalIgnoreCase))
        ?? throw new InvalidOperationException($"Function '{Name}' has no single trigger binding; bindings: {string.Join(", ", Bindings.Select(b => b.Type))}.");

    public BindingEntry Binding(string name) =>
        Bindings.SingleOrDefault(b => string.Equals(b.Name, name, StringComparison.Ordinal))
        ?? throw new KeyNotFoundException($"Function '{Name}' has no binding named '{name}'; bindings: {string.Join(", ", Bindings.Select(b => b.Name))}.");

    internal static FunctionEntry From(JsonObject node) => new(
        Text(node, "name") ?? throw new InvalidDataException("A function entry has no name."),
        Text(node, "scriptFile"),
        Text(node, "entryPoint"),
        Text(node, "language"),
        (Property(node, "bindings") as JsonArray ?? []).OfType<JsonObject>().Select(BindingEntry.From).ToList());

    internal static JsonNode? Property(JsonObject node, string name) =>
        node.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    internal static string? Text(JsonObject node, string name) =>
        Property(node, name) is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : Property(node, name)?.ToJsonString();
}

internal sealed record BindingEntry(string Name, string Type, string? Direction, JsonObject Raw)
{
    public string? AuthLevel => this["authLevel"];

    public string? Route => this["route"];

    /// <summary>The HTTP methods, lowercased as written.</summary>
    public IReadOnlyList<string> Methods =>
        (FunctionEntry.Property(Raw, "methods") as JsonArray ?? []).Select(m => m?.GetValue<string>() ?? string.Empty).ToList();

    /// <summary>Any other property as text (a timer's <c>schedule</c>, a binding's <c>connection</c>…).</summary>
    public string? this[string property] => FunctionEntry.Text(Raw, property);

    internal static BindingEntry From(JsonObject node) => new(
        FunctionEntry.Text(node, "name") ?? string.Empty,
        FunctionEntry.Text(node, "type") ?? string.Empty,
        FunctionEntry.Text(node, "direction"),
        node);
}
