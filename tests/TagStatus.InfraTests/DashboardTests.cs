using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.RegularExpressions;
using TagStatus.Core.Operations;

namespace TagStatus.InfraTests;

/// <summary>
/// The operator's view: a workbook charting every metric the app exports, on the app's Application Insights, and the two
/// alert rules (a late backlog, dead-lettered callbacks) with their thresholds as parameters.
/// </summary>
public class DashboardTests
{
    private static TemplateScope Dashboard => CompiledTemplate.Instance.Module("dashboard");

    private static IReadOnlyList<string> ChartQueries =>
        [.. Dashboard.Template.GetProperty("variables").GetProperty("charts").EnumerateArray().Select(c => c.GetProperty("query").GetString()!)];

    private static ArmResource Rule(string name) =>
        Assert.Single(CompiledTemplate.Instance.OfType("Microsoft.Insights/scheduledQueryRules"), r => r.RawName == name);

    public static TheoryData<string> MetricNames => new(TagStatusMetrics.Names.All);

    [Fact]
    public void A_shared_workbook_is_deployed_on_the_apps_application_insights()
    {
        var workbook = CompiledTemplate.Instance.Single("Microsoft.Insights/workbooks");

        Assert.Equal("shared", workbook.Element.GetProperty("kind").GetString());
        Assert.False(workbook.IsConditional);
        Assert.Equal("[resourceId('Microsoft.Insights/components', parameters('applicationInsightsName'))]", workbook.Properties.GetProperty("sourceId").GetString());
        Assert.Equal("[string(variables('workbookContent'))]", workbook.Properties.GetProperty("serializedData").GetString());
        // A workbook's name must be a GUID: a stable one, so a redeployment updates it.
        Assert.StartsWith("[guid(", workbook.RawName, StringComparison.Ordinal);
        // The module is handed the component the app exports to.
        Assert.Equal("[variables('applicationInsightsName')]", Deployment("dashboard").GetProperty("properties").GetProperty("parameters").GetProperty("applicationInsightsName").GetProperty("value").GetString());
    }

    [Fact]
    public void The_workbook_is_one_time_chart_per_chart_query()
    {
        var content = Dashboard.Template.GetProperty("variables").GetProperty("workbookContent");

        Assert.Equal("Notebook/1.0", content.GetProperty("version").GetString());
        var items = content.GetProperty("items").GetString()!;
        Assert.Contains("range(0, length(variables('charts')))", items, StringComparison.Ordinal);
        Assert.Contains("'query', variables('charts')[lambdaVariables('i')].query", items, StringComparison.Ordinal);
        Assert.Contains("'visualization', 'timechart'", items, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(MetricNames))]
    public void Every_metric_the_app_exports_has_a_chart(string metric)
    {
        Assert.Contains(ChartQueries, q => q.StartsWith($"customMetrics | where name == \"{metric}\" |", StringComparison.Ordinal));
    }

    /// <summary>
    /// Azure Monitor's exporter writes each instrument as a <c>customMetrics</c> row named exactly as the instrument (its meter
    /// goes to the namespace, its tags to <c>customDimensions</c>): so the names the workbook and the alerts query must be
    /// exactly the instruments the meter declares, both ways.
    /// </summary>
    [Fact]
    public void The_workbook_and_alerts_query_exactly_the_instruments_the_meter_declares()
    {
        var declared = new List<string>();
        using var factory = new OwnMeterFactory();
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (instrument, _) =>
            {
                if (factory.Made(instrument.Meter))
                {
                    declared.Add(instrument.Name);
                }
            };
            listener.Start();
            _ = new TagStatusMetrics(factory);
        }

        var alertQueries = CompiledTemplate.Instance.OfType("Microsoft.Insights/scheduledQueryRules")
            .SelectMany(rule => rule.Properties.GetProperty("criteria").GetProperty("allOf").EnumerateArray().Select(c => c.GetProperty("query").GetString()!));
        var queried = ChartQueries.Concat(alertQueries)
            .SelectMany(query => Regex.Matches(query, "name == \"([^\"]+)\"").Select(match => match.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);

        Assert.Equal(declared.Order(StringComparer.Ordinal), queried.Order(StringComparer.Ordinal));
        Assert.Equal(declared.Order(StringComparer.Ordinal), TagStatusMetrics.Names.All.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_backlog_alert_fires_on_the_oldest_lateness_past_the_threshold_parameter()
    {
        var rule = Rule("alert-tag-status-backlog");
        var criterion = Assert.Single(rule.Properties.GetProperty("criteria").GetProperty("allOf").EnumerateArray());

        Assert.Contains($"where name == \"{TagStatusMetrics.Names.OldestLateness}\"", criterion.GetProperty("query").GetString(), StringComparison.Ordinal);
        Assert.Equal("GreaterThan", criterion.GetProperty("operator").GetString());
        // Minutes in the parameter, seconds in the metric.
        Assert.Equal("[mul(parameters('backlogAlertMinutes'), 60)]", criterion.GetProperty("threshold").GetString());
        Assert.Equal("[parameters('backlogAlertMinutes')]", PassedToDashboard("backlogAlertMinutes"));
        Assert.Equal(15, CompiledTemplate.Instance.Main.Parameter("backlogAlertMinutes").GetProperty("defaultValue").GetInt32());
        AssertEnabledOnTheComponent(rule);
    }

    [Fact]
    public void The_dead_letter_alert_counts_dead_lettered_callbacks_past_the_threshold_parameter()
    {
        var rule = Rule("alert-tag-status-dead-lettered-callbacks");
        var criterion = Assert.Single(rule.Properties.GetProperty("criteria").GetProperty("allOf").EnumerateArray());

        var query = criterion.GetProperty("query").GetString()!;
        Assert.Contains($"where name == \"{TagStatusMetrics.Names.CallbackDeliveries}\"", query, StringComparison.Ordinal);
        Assert.Contains($"== \"{TagStatusMetrics.Names.DeadLetteredOutcome}\"", query, StringComparison.Ordinal);
        Assert.Equal("Total", criterion.GetProperty("timeAggregation").GetString());
        Assert.Equal("[parameters('deadLetteredAlertThreshold')]", criterion.GetProperty("threshold").GetString());
        Assert.Equal("[parameters('deadLetteredAlertThreshold')]", PassedToDashboard("deadLetteredAlertThreshold"));
        Assert.Equal(0, CompiledTemplate.Instance.Main.Parameter("deadLetteredAlertThreshold").GetProperty("defaultValue").GetInt32());
        AssertEnabledOnTheComponent(rule);
    }

    [Fact]
    public void The_alerts_email_someone_only_when_an_address_is_given()
    {
        var group = CompiledTemplate.Instance.Single("Microsoft.Insights/actionGroups");

        Assert.Equal("[not(empty(parameters('alertEmail')))]", group.RawCondition);
        Assert.Equal(string.Empty, CompiledTemplate.Instance.Main.Parameter("alertEmail").GetProperty("defaultValue").GetString());
        foreach (var rule in CompiledTemplate.Instance.OfType("Microsoft.Insights/scheduledQueryRules"))
        {
            Assert.Equal("[variables('alertActions')]", rule.Properties.GetProperty("actions").GetProperty("actionGroups").GetString());
        }
    }

    private static void AssertEnabledOnTheComponent(ArmResource rule)
    {
        Assert.Equal(JsonValueKind.True, rule.Properties.GetProperty("enabled").ValueKind);
        Assert.False(rule.IsConditional);
        Assert.Equal(
            ["[resourceId('Microsoft.Insights/components', parameters('applicationInsightsName'))]"],
            rule.Properties.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()!));
    }

    private static string? PassedToDashboard(string parameter) =>
        Deployment("dashboard").GetProperty("properties").GetProperty("parameters").GetProperty(parameter).GetProperty("value").GetString();

    private static JsonElement Deployment(string name) =>
        CompiledTemplate.Instance.Main.Template.GetProperty("resources").EnumerateArray()
            .Single(r => r.GetProperty("type").GetString() == "Microsoft.Resources/deployments" && r.GetProperty("name").GetString() == name);
}

/// <summary>Meters of this test only, so instruments of other tests' meters of the same name are not counted.</summary>
internal sealed class OwnMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options);
        _meters.Add(meter);
        return meter;
    }

    public bool Made(Meter meter) => _meters.Contains(meter);

    public void Dispose() => _meters.ForEach(meter => meter.Dispose());
}
