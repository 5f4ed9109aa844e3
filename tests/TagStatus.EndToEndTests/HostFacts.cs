namespace TagStatus.EndToEndTests;

/// <summary>Which host the suite drives (<see cref="E2e.Host"/>).</summary>
public enum AppHost
{
    LocalHost,
    FunctionsHost,
    CoreTools,
}

/// <summary>A test of the real Functions runtime only: the LocalHost has no admin API, no function loading, no bindings.</summary>
public sealed class FunctionsRuntimeFactAttribute : FactAttribute
{
    public FunctionsRuntimeFactAttribute()
    {
        if (!E2e.IsFunctionsRuntime)
        {
            Skip = "Needs the real Azure Functions host (admin API, functions.metadata, bindings); this run drives the LocalHost.";
        }
    }
}

/// <summary>A test of the real host as Azure runs it, keys checked: under FUNCTIONS_HOST_RUNNER, not <c>func start</c>.</summary>
public sealed class FunctionsHostFactAttribute : FactAttribute
{
    public FunctionsHostFactAttribute()
    {
        if (E2e.Host is not AppHost.FunctionsHost)
        {
            Skip = "Needs the real Azure Functions host checking keys as Azure does (FUNCTIONS_HOST_RUNNER); this run drives "
                + (E2e.Host is AppHost.LocalHost ? "the LocalHost." : "func start, which checks no keys.");
        }
    }
}

/// <summary>A test of the LocalHost only: it checks the LocalHost against what the real host reads by itself.</summary>
public sealed class LocalHostFactAttribute : FactAttribute
{
    public LocalHostFactAttribute()
    {
        if (E2e.Host is not AppHost.LocalHost)
        {
            Skip = "Checks the LocalHost's own route table and scheduler; the real host reads functions.metadata itself (FunctionsHostTests).";
        }
    }
}

/// <summary>A test of function keys: <c>func start</c> checks none, so it runs on the LocalHost and the real host only.</summary>
public sealed class KeyCheckingFactAttribute : FactAttribute
{
    public KeyCheckingFactAttribute()
    {
        if (!E2e.ChecksKeys)
        {
            Skip = "func start checks no function keys; the LocalHost and the real host (FUNCTIONS_HOST_RUNNER) do.";
        }
    }
}

/// <inheritdoc cref="KeyCheckingFactAttribute"/>
public sealed class KeyCheckingTheoryAttribute : TheoryAttribute
{
    public KeyCheckingTheoryAttribute()
    {
        if (!E2e.ChecksKeys)
        {
            Skip = "func start checks no function keys; the LocalHost and the real host (FUNCTIONS_HOST_RUNNER) do.";
        }
    }
}
