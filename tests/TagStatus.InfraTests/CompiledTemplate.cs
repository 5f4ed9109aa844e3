using System.Text.Json;
using System.Text.RegularExpressions;

namespace TagStatus.InfraTests;

/// <summary>
/// The ARM template compiled from infra/main.bicep by scripts/check-infra.sh, read from
/// <c>.artifacts/infra/main.json</c> under the repository root. Missing file: every test fails
/// and says how to make it.
/// </summary>
public sealed partial class CompiledTemplate
{
    public const string RelativePath = ".artifacts/infra/main.json";
    public const string ParametersRelativePath = ".artifacts/infra/main.parameters.json";

    private static readonly Lazy<CompiledTemplate> Loaded = new(Load);

    private CompiledTemplate(string path, string text, JsonElement root, string? parametersText)
    {
        Path = path;
        Text = text;
        Root = root;
        ParametersText = parametersText;
        Main = new TemplateScope(root, parent: null, deployment: null);
        Resources = Collect(Main).ToList();
    }

    public static CompiledTemplate Instance => Loaded.Value;

    public string Path { get; }

    /// <summary>The raw JSON text of the template.</summary>
    public string Text { get; }

    public JsonElement Root { get; }

    /// <summary>The raw JSON of main.bicepparam compiled, or null when it was not written.</summary>
    public string? ParametersText { get; }

    /// <summary>The top-level (subscription scope) template.</summary>
    public TemplateScope Main { get; }

    /// <summary>Every resource, those inside module (nested deployment) templates included.</summary>
    public IReadOnlyList<ArmResource> Resources { get; }

    public IEnumerable<ArmResource> OfType(string type) =>
        Resources.Where(r => string.Equals(r.Type, type, StringComparison.OrdinalIgnoreCase));

    public ArmResource Single(string type)
    {
        var matches = OfType(type).ToList();
        Assert.True(matches.Count == 1, $"Expected exactly one {type} in {Path}, found {matches.Count}.");
        return matches[0];
    }

    /// <summary>The template of the module deployed under <paramref name="deploymentName"/>.</summary>
    public TemplateScope Module(string deploymentName)
    {
        var deployment = Main.Template.GetProperty("resources").EnumerateArray()
            .Where(r => r.GetProperty("type").GetString() == "Microsoft.Resources/deployments"
                        && r.GetProperty("name").GetString() == deploymentName)
            .ToList();
        Assert.True(deployment.Count == 1, $"Expected one module deployment named '{deploymentName}' in {Path}.");
        return new TemplateScope(deployment[0].GetProperty("properties").GetProperty("template"), Main, deployment[0]);
    }

    private static IEnumerable<ArmResource> Collect(TemplateScope scope)
    {
        if (!scope.Template.TryGetProperty("resources", out var resources))
        {
            yield break;
        }

        foreach (var resource in resources.EnumerateArray())
        {
            var type = resource.GetProperty("type").GetString()!;
            yield return new ArmResource(resource, scope);
            if (type == "Microsoft.Resources/deployments"
                && resource.TryGetProperty("properties", out var properties)
                && properties.TryGetProperty("template", out var inner))
            {
                foreach (var nested in Collect(new TemplateScope(inner, scope, resource)))
                {
                    yield return nested;
                }
            }
        }
    }

    private static CompiledTemplate Load()
    {
        var root = FindRepositoryRoot();
        var path = System.IO.Path.Combine(root, RelativePath);
        if (!File.Exists(path))
        {
            Assert.Fail(
                $"The compiled ARM template {path} is missing. Run scripts/check-infra.sh from the " +
                "repository root first: it builds infra/main.bicep (with the pinned Bicep CLI) to that path.");
        }

        var text = File.ReadAllText(path);
        using var document = JsonDocument.Parse(text);
        var parametersPath = System.IO.Path.Combine(root, ParametersRelativePath);
        var parametersText = File.Exists(parametersPath) ? File.ReadAllText(parametersPath) : null;
        return new CompiledTemplate(path, text, document.RootElement.Clone(), parametersText);
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "FunctionApp.sln")))
            {
                return directory.FullName;
            }
        }

        Assert.Fail($"No folder holding FunctionApp.sln above {AppContext.BaseDirectory}: cannot find the repository root.");
        throw new InvalidOperationException("unreachable");
    }
}

/// <summary>
/// One template (the main one or a module's) with just enough of ARM's expression language to
/// read values: <c>variables('x')</c> and <c>parameters('x')</c> are replaced by what they stand
/// for (a module's parameter by the value its parent passes, resolved in the parent).
/// </summary>
public sealed partial class TemplateScope(JsonElement template, TemplateScope? parent, JsonElement? deployment)
{
    private const int MaxDepth = 16;

    public JsonElement Template { get; } = template;

    public TemplateScope? Parent { get; } = parent;

    public string? DeploymentName { get; } = deployment?.GetProperty("name").GetString();

    /// <summary>
    /// The value of a template string: a literal as it is, an expression with variables and
    /// parameters substituted; when it reduces to a string literal, that literal.
    /// </summary>
    public string Evaluate(string value)
    {
        if (!IsExpression(value))
        {
            return value;
        }

        var resolved = ResolveExpression(value[1..^1], 0);
        var literal = LiteralPattern().Match(resolved);
        return literal.Success ? literal.Groups[1].Value.Replace("''", "'", StringComparison.Ordinal) : $"[{resolved}]";
    }

    /// <summary>The value the parent template passes for one of this module's parameters.</summary>
    public string ParameterValue(string name) =>
        ResolveExpression($"parameters('{name}')", 0) is var resolved && LiteralPattern().Match(resolved) is { Success: true } literal
            ? literal.Groups[1].Value
            : $"[{resolved}]";

    public JsonElement Parameter(string name) =>
        Template.GetProperty("parameters").GetProperty(name);

    private static bool IsExpression(string value) =>
        value.StartsWith('[') && !value.StartsWith("[[", StringComparison.Ordinal) && value.EndsWith(']');

    private string ResolveExpression(string expression, int depth)
    {
        if (depth > MaxDepth)
        {
            return expression;
        }

        var withVariables = VariablePattern().Replace(expression, m => ResolveVariable(m.Groups[1].Value, m.Value, depth));
        return ParameterPattern().Replace(withVariables, m => ResolveParameter(m.Groups[1].Value, m.Value, depth));
    }

    private string ResolveVariable(string name, string original, int depth)
    {
        if (!Template.TryGetProperty("variables", out var variables) || !variables.TryGetProperty(name, out var value))
        {
            return original;
        }

        return value.ValueKind == JsonValueKind.String ? AsExpression(value.GetString()!, this, depth) : original;
    }

    private string ResolveParameter(string name, string original, int depth)
    {
        if (deployment is { } d && Parent is not null
            && d.GetProperty("properties").TryGetProperty("parameters", out var passed)
            && passed.TryGetProperty(name, out var parameter)
            && parameter.TryGetProperty("value", out var value))
        {
            return value.ValueKind switch
            {
                JsonValueKind.String => AsExpression(value.GetString()!, Parent, depth),
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
                _ => original,
            };
        }

        if (Template.TryGetProperty("parameters", out var declared)
            && declared.TryGetProperty(name, out var declaration)
            && declaration.TryGetProperty("defaultValue", out var defaultValue)
            && defaultValue.ValueKind == JsonValueKind.String
            && deployment is not null)
        {
            return AsExpression(defaultValue.GetString()!, this, depth);
        }

        return original;
    }

    private static string AsExpression(string value, TemplateScope scope, int depth) =>
        IsExpression(value)
            ? scope.ResolveExpression(value[1..^1], depth + 1)
            : $"'{value.Replace("'", "''", StringComparison.Ordinal)}'";

    [GeneratedRegex(@"variables\('([^']+)'\)")]
    private static partial Regex VariablePattern();

    [GeneratedRegex(@"parameters\('([^']+)'\)")]
    private static partial Regex ParameterPattern();

    [GeneratedRegex(@"^'((?:[^']|'')*)'$")]
    private static partial Regex LiteralPattern();
}

/// <summary>A resource of the compiled template and the template it sits in.</summary>
public sealed class ArmResource(JsonElement element, TemplateScope scope)
{
    public JsonElement Element { get; } = element;

    public TemplateScope Scope { get; } = scope;

    public string Type => Element.GetProperty("type").GetString()!;

    /// <summary>The name expression as written in the template.</summary>
    public string RawName => Element.GetProperty("name").GetString()!;

    public bool IsConditional => Element.TryGetProperty("condition", out _);

    public string? RawCondition => Element.TryGetProperty("condition", out var c) ? c.GetString() : null;

    public JsonElement Properties => Element.GetProperty("properties");

    /// <summary>The element at a dotted path (e.g. "properties.siteConfig.ftpsState"), or fails.</summary>
    public JsonElement At(string path)
    {
        var current = Element;
        foreach (var part in path.Split('.'))
        {
            Assert.True(
                current.ValueKind == JsonValueKind.Object && current.TryGetProperty(part, out current),
                $"{Type} '{RawName}' has no '{path}'.");
        }

        return current;
    }

    /// <summary>The string at a dotted path, evaluated (variables and parameters substituted).</summary>
    public string String(string path) => Scope.Evaluate(At(path).GetString()!);

    public string Evaluate(string value) => Scope.Evaluate(value);

    public override string ToString() => $"{Type} '{RawName}' (module {Scope.DeploymentName ?? "main"})";
}
