using System.Text.Json.Nodes;
using TagStatus.LocalHost;

namespace TagStatus.EndToEndTests;

/// <summary>
/// The LocalHost serves exactly the functions the Functions build declares in <c>functions.metadata</c>: the same HTTP
/// routes, methods and authorization levels, and the timer on the same setting. Needs the build, not a running host.
/// </summary>
public sealed class RouteParityTests
{
    [LocalHostFact]
    public void LocalHost_maps_exactly_the_http_functions_of_functions_metadata()
    {
        var declared = FunctionsMetadata.Load()
            .Where(f => f.Trigger["type"]!.GetValue<string>() == "httpTrigger")
            .SelectMany(f => f.Trigger["methods"]!.AsArray().Select(m => Describe(
                f.Name, m!.GetValue<string>(), f.Trigger["route"]!.GetValue<string>(), f.Trigger["authLevel"]!.GetValue<string>())))
            .Order()
            .ToList();
        var mapped = LocalRoutes.All.Select(r => Describe(r.Name, r.Method, r.Template, r.Auth.ToString())).Order().ToList();

        Assert.NotEmpty(declared);
        Assert.Equal(declared, mapped);
    }

    [LocalHostFact]
    public void LocalHost_runs_the_timers_on_the_same_schedules()
    {
        var functions = FunctionsMetadata.Load();
        var timers = functions.Where(f => f.Trigger["type"]!.GetValue<string>() == "timerTrigger")
            .ToDictionary(f => f.Name, f => f.Trigger["schedule"]!.GetValue<string>());

        // RefreshScheduler runs RefreshPendingTags on the same setting; RetentionScheduler runs Retention on the same constant.
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["RefreshPendingTags"] = $"%{RefreshScheduler.ScheduleSetting}%",
                ["Retention"] = TagStatus.Core.Tracking.RetentionRunner.Schedule,
            },
            timers);
        // Any other trigger kind would be a function the LocalHost does not run.
        Assert.All(functions, f => Assert.Contains(f.Trigger["type"]!.GetValue<string>(), new[] { "httpTrigger", "timerTrigger", "queueTrigger" }));
    }

    [LocalHostFact]
    public void LocalHost_polls_the_queues_of_the_queue_functions_by_the_same_settings()
    {
        var queues = FunctionsMetadata.Load()
            .Where(f => f.Trigger["type"]!.GetValue<string>() == "queueTrigger")
            .ToDictionary(f => f.Name, f => f.Trigger["queueName"]!.GetValue<string>());

        // QueueWorker hands RefreshTag's messages to RefreshQueueProcessor and DeliverCallback's to CallbackDispatcher,
        // on the queues WorkQueueOptions reads from these same settings.
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["RefreshTag"] = $"%{TagStatus.Core.Queues.WorkQueueOptions.RefreshQueueSetting}%",
                ["DeliverCallback"] = $"%{TagStatus.Core.Queues.WorkQueueOptions.CallbacksQueueSetting}%",
            },
            queues);
    }

    private static string Describe(string name, string method, string route, string authLevel) =>
        $"{name} {method.ToUpperInvariant()} /api/{route} {authLevel.ToLowerInvariant()}";
}

/// <summary>One function of <c>functions.metadata</c> and its trigger binding.</summary>
public sealed record DeclaredFunction(string Name, JsonObject Trigger);

public static class FunctionsMetadata
{
    /// <summary>
    /// Reads src/TagStatus.Functions/bin/&lt;Configuration&gt;/net10.0/functions.metadata, the Configuration being the one
    /// this test assembly was built in (…/bin/&lt;Configuration&gt;/net10.0/).
    /// </summary>
    public static IReadOnlyList<DeclaredFunction> Load()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = output.Parent?.Name ?? throw new InvalidOperationException($"Cannot tell the build configuration from {output.FullName}.");
        var root = output;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "FunctionApp.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException($"No FunctionApp.sln above {output.FullName}: run the tests from the repository's build output.");
        }

        var path = Path.Combine(root.FullName, "src", "TagStatus.Functions", "bin", configuration, output.Name, "functions.metadata");
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{path} is missing: dotnet build src/TagStatus.Functions -c {configuration}");
        }

        return JsonNode.Parse(File.ReadAllText(path))!.AsArray()
            .Select(f => new DeclaredFunction(
                f!["name"]!.GetValue<string>(),
                f["bindings"]!.AsArray().Single(b => b!["type"]!.GetValue<string>().EndsWith("Trigger", StringComparison.Ordinal))!.AsObject()))
            .ToList();
    }
}
