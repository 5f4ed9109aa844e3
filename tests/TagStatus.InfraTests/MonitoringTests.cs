using System.Text.Json;

namespace TagStatus.InfraTests;

public class MonitoringTests
{
    [Fact]
    public void Application_insights_disables_local_auth_and_is_workspace_based()
    {
        var component = CompiledTemplate.Instance.Single("Microsoft.Insights/components");
        Assert.Equal(JsonValueKind.True, component.At("properties.DisableLocalAuth").ValueKind);
        Assert.Contains("Microsoft.OperationalInsights/workspaces", component.String("properties.WorkspaceResourceId"), StringComparison.Ordinal);
    }

    [Fact]
    public void Log_analytics_disables_local_auth()
    {
        var workspace = CompiledTemplate.Instance.Single("Microsoft.OperationalInsights/workspaces");
        Assert.Equal(JsonValueKind.True, workspace.At("properties.features.disableLocalAuth").ValueKind);
    }
}
