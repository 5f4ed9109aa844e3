namespace TagStatus.InfraTests;

/// <summary>
/// Least privilege: the app's identity gets exactly these data roles, each on its own resource,
/// each assignment named guid(scope, principal, role) so that a redeployment finds it again.
/// </summary>
public class RoleAssignmentTests
{
    public const string KeyVaultSecretsUser = "4633458b-17de-408a-b874-0445c86b69e6";
    public const string KeyVaultSecretsOfficer = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";
    public const string StorageTableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
    public const string StorageBlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
    public const string StorageQueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
    public const string MonitoringMetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";

    private const string IdentityReference = "resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', parameters('identityName'))";

    private static IReadOnlyList<ArmResource> Assignments =>
        CompiledTemplate.Instance.OfType("Microsoft.Authorization/roleAssignments").ToList();

    private static readonly (string Role, string ScopeType)[] App =
    [
        (KeyVaultSecretsUser, "Microsoft.KeyVault/vaults"),
        (StorageTableDataContributor, "Microsoft.Storage/storageAccounts"),
        (StorageBlobDataOwner, "Microsoft.Storage/storageAccounts"),
        (StorageQueueDataContributor, "Microsoft.Storage/storageAccounts"),
        (MonitoringMetricsPublisher, "Microsoft.Insights/components"),
    ];

    private static readonly (string Role, string ScopeType)[] Deployer =
    [
        (KeyVaultSecretsOfficer, "Microsoft.KeyVault/vaults"),
        (StorageTableDataContributor, "Microsoft.Storage/storageAccounts"),
        (StorageBlobDataOwner, "Microsoft.Storage/storageAccounts"),
        (StorageQueueDataContributor, "Microsoft.Storage/storageAccounts"),
    ];

    public static TheoryData<string, string> AppRoles => ToTheoryData(App);

    public static TheoryData<string, string> DeployerRoles => ToTheoryData(Deployer);

    [Theory]
    [MemberData(nameof(AppRoles))]
    public void App_identity_gets_the_role_on_its_resource(string roleId, string scopeType)
    {
        var assignment = Assert.Single(AppAssignments(), a => RoleOf(a) == roleId);

        Assert.Equal("ServicePrincipal", assignment.String("properties.principalType"));
        Assert.False(assignment.IsConditional, $"{assignment} must always be deployed.");
        var identity = assignment.Evaluate($"[{IdentityReference}]")[1..^1];
        Assert.Equal($"[reference({identity}, '2024-11-30').principalId]", assignment.String("properties.principalId"));

        var scope = assignment.String("scope");
        Assert.StartsWith($"[resourceId('{scopeType}', ", scope, StringComparison.Ordinal);
        Assert.Equal($"[guid({scope[1..^1]}, {identity}, '{roleId}')]", assignment.Evaluate(assignment.RawName));
    }

    [Fact]
    public void App_identity_gets_no_other_role()
    {
        var granted = AppAssignments().Select(RoleOf).Order().ToArray();
        var expected = App.Select(r => r.Role).Order().ToArray();
        Assert.Equal(expected, granted);
    }

    [Theory]
    [MemberData(nameof(DeployerRoles))]
    public void Deployer_gets_the_role_only_when_the_optional_parameter_is_set(string roleId, string scopeType)
    {
        var assignment = Assert.Single(DeployerAssignments(), a => RoleOf(a) == roleId);

        Assert.Equal("User", assignment.String("properties.principalType"));
        Assert.Equal("[not(empty(parameters('deployerPrincipalId')))]", assignment.RawCondition);
        var scope = assignment.String("scope");
        Assert.StartsWith($"[resourceId('{scopeType}', ", scope, StringComparison.Ordinal);
        Assert.Equal($"[guid({scope[1..^1]}, parameters('deployerPrincipalId'), '{roleId}')]", assignment.Evaluate(assignment.RawName));
    }

    [Fact]
    public void Deployer_access_is_off_by_default()
    {
        var parameter = CompiledTemplate.Instance.Main.Parameter("deployerPrincipalId");
        Assert.Equal(string.Empty, parameter.GetProperty("defaultValue").GetString());
        Assert.Equal(Deployer.Length, DeployerAssignments().Count());
    }

    [Fact]
    public void Every_assignment_is_either_the_app_identity_or_the_optional_deployer()
    {
        Assert.Equal(Assignments.Count, AppAssignments().Count() + DeployerAssignments().Count());
    }

    [Fact]
    public void Every_role_definition_is_a_built_in_role_by_its_id()
    {
        Assert.All(Assignments, a => Assert.Matches(
            @"^\[subscriptionResourceId\('Microsoft\.Authorization/roleDefinitions', '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'\)\]$",
            a.String("properties.roleDefinitionId")));
    }

    private static TheoryData<string, string> ToTheoryData((string Role, string ScopeType)[] rows)
    {
        var data = new TheoryData<string, string>();
        foreach (var (role, scopeType) in rows)
        {
            data.Add(role, scopeType);
        }

        return data;
    }

    private static IEnumerable<ArmResource> AppAssignments() =>
        Assignments.Where(a => a.String("properties.principalId").Contains("userAssignedIdentities", StringComparison.Ordinal));

    private static IEnumerable<ArmResource> DeployerAssignments() =>
        Assignments.Where(a => a.String("properties.principalId") == "[parameters('deployerPrincipalId')]");

    private static string RoleOf(ArmResource assignment)
    {
        var id = assignment.String("properties.roleDefinitionId");
        const string prefix = "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '";
        Assert.StartsWith(prefix, id, StringComparison.Ordinal);
        return id[prefix.Length..^3];
    }
}
