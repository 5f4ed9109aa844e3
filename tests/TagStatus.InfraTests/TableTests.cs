using System.Text.RegularExpressions;
using TagStatus.Core.Storage;

namespace TagStatus.InfraTests;

/// <summary>
/// Least privilege for tables: the deployment makes every table the app uses, under the prefix the app is given, and
/// tells the app not to create them, so its identity needs data roles only.
/// </summary>
public partial class TableTests
{
    [Fact]
    public void The_storage_module_makes_one_table_per_name_it_is_given()
    {
        var tables = CompiledTemplate.Instance.Single("Microsoft.Storage/storageAccounts/tableServices/tables");

        Assert.Contains("parameters('tableNames')[copyIndex()]", tables.RawName, StringComparison.Ordinal);
        Assert.Equal("[length(parameters('tableNames'))]", tables.Element.GetProperty("copy").GetProperty("count").GetString());
        Assert.False(tables.IsConditional, "the tables must always be made");
    }

    [Fact]
    public void The_tables_made_are_every_table_the_app_uses_under_its_prefix()
    {
        var main = CompiledTemplate.Instance.Main.Template;
        var storage = main.GetProperty("resources").EnumerateArray()
            .Single(r => r.GetProperty("type").GetString() == "Microsoft.Resources/deployments" && r.GetProperty("name").GetString() == "storage");
        var appSettings = CompiledTemplate.Instance.Single("Microsoft.Web/sites/config");

        Assert.Equal("[variables('appTableNames')]", storage.GetProperty("properties").GetProperty("parameters").GetProperty("tableNames").GetProperty("value").GetString());
        var expression = main.GetProperty("variables").GetProperty("appTableNames").GetString()!;
        var listed = TableNamePattern().Match(expression);
        Assert.True(listed.Success, $"appTableNames is not the expected map over a literal list: {expression}");
        Assert.Equal(TagStoreOptions.TableNames, listed.Groups["names"].Value.Split(", ").Select(n => n.Trim('\'')));
        Assert.Contains("format('{0}{1}', parameters('tablePrefix'), lambdaVariables('table'))", expression, StringComparison.Ordinal);
        // The same main-template parameter is the prefix the app reads.
        Assert.Equal("[parameters('tablePrefix')]", appSettings.String("properties.TagStorage__TablePrefix"));
    }

    [Fact]
    public void The_app_is_told_not_to_create_tables_or_queues()
    {
        var appSettings = CompiledTemplate.Instance.Single("Microsoft.Web/sites/config");

        Assert.Equal("false", appSettings.String("properties.TagStorage__CreateIfMissing"));
    }

    [Fact]
    public void The_table_prefix_parameter_is_held_to_the_length_the_app_accepts()
    {
        var prefix = CompiledTemplate.Instance.Main.Parameter("tablePrefix");

        Assert.Equal(20, prefix.GetProperty("maxLength").GetInt32());
    }

    [GeneratedRegex(@"^\[map\(createArray\((?<names>[^)]*)\), lambda\('table', ")]
    private static partial Regex TableNamePattern();
}
