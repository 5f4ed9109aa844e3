namespace TagStatus.IntegrationTests.Support;

internal static class RepoPaths
{
    /// <summary>The folder holding FunctionApp.sln.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FunctionApp.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("FunctionApp.sln not found above " + AppContext.BaseDirectory);
    }
}
