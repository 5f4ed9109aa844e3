using BenchmarkDotNet.Running;

namespace TagStatus.Benchmarks;

public static class BenchmarkProgram
{
    /// <summary>
    /// BenchmarkDotNet's switcher, or <c>bigtag SIMULATOR_URL STORAGE RECIPIENTS PAGE_SIZE</c> for the one long run of
    /// <see cref="BigTagRun"/> (bench/bigtag.sh starts what it needs), or <c>lookup-pages|lookup-csv STORAGE PREFIX</c>
    /// for <see cref="LookupRun"/> (bench/lookup.sh).
    /// </summary>
    public static async Task<int> Main(string[] args)
    {
        if (args is ["bigtag", var simulator, var storage, var recipients, var pageSize])
        {
            return await BigTagRun.RunAsync(simulator, storage, int.Parse(recipients, System.Globalization.CultureInfo.InvariantCulture), int.Parse(pageSize, System.Globalization.CultureInfo.InvariantCulture));
        }

        if (args is ["lookup-pages", var pagesStorage, var pagesPrefix])
        {
            return await LookupRun.PagesAsync(pagesStorage, pagesPrefix);
        }

        if (args is ["lookup-csv", var csvStorage, var csvPrefix])
        {
            return await LookupRun.CsvAsync(csvStorage, csvPrefix);
        }

        BenchmarkSwitcher.FromAssembly(typeof(BenchmarkProgram).Assembly).Run(args);
        return 0;
    }
}
