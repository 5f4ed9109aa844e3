using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Configuration.Memory;

namespace SmsPartner.Simulator;

/// <summary>Builds and starts the simulator, standalone (Program) or in-process (tests, benchmarks).</summary>
public static class SimulatorApp
{
    /// <summary>
    /// Builds the app from command-line style <paramref name="args"/> (<c>--urls</c>, <c>--Simulator:ApiKey=…</c>),
    /// binds <see cref="SimulatorOptions"/> from the <c>Simulator</c> section, then applies <paramref name="configure"/>.
    /// The seed file and demo campaign are loaded before this returns. Call <c>RunAsync</c>/<c>StartAsync</c> on it.
    /// </summary>
    public static WebApplication Build(string[] args, Action<SimulatorOptions>? configure = null) =>
        BuildCore(args, preset: null, configure, configureBuilder: null);

    /// <summary>As <see cref="Build(string[], Action{SimulatorOptions}?)"/>, with a hook on the builder (extra logging providers, services).</summary>
    public static WebApplication Build(string[] args, Action<SimulatorOptions>? configure, Action<WebApplicationBuilder>? configureBuilder) =>
        BuildCore(args, preset: null, configure, configureBuilder);

    /// <summary>
    /// Starts the simulator on <c>http://127.0.0.1:{free port}</c> with <paramref name="options"/> as given
    /// (configuration is not consulted). Dispose the result to stop it.
    /// </summary>
    public static Task<RunningSimulator> StartAsync(SimulatorOptions? options = null, CancellationToken ct = default) =>
        StartAsync(options, configureBuilder: null, ct);

    /// <summary>As <see cref="StartAsync(SimulatorOptions?, CancellationToken)"/>, with a hook on the builder.</summary>
    public static async Task<RunningSimulator> StartAsync(
        SimulatorOptions? options,
        Action<WebApplicationBuilder>? configureBuilder,
        CancellationToken ct = default)
    {
        string[] args =
        [
            "--urls", "http://127.0.0.1:0",
            "--hostBuilder:reloadConfigOnChange=false",
            "--Logging:LogLevel:Default=Warning",
        ];
        var app = BuildCore(args, options ?? new SimulatorOptions(), configure: null, configureBuilder);
        try
        {
            await app.StartAsync(ct);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!
                .Addresses.First();
            return new RunningSimulator(app, new Uri(address.TrimEnd('/') + "/"));
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    private static WebApplication BuildCore(
        string[] args,
        SimulatorOptions? preset,
        Action<SimulatorOptions>? configure,
        Action<WebApplicationBuilder>? configureBuilder)
    {
        ArgumentNullException.ThrowIfNull(args);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = args,
            ApplicationName = typeof(SimulatorApp).Assembly.GetName().Name,
        });

        // The hosting diagnostics log the full request URL, query string included: that is where the API key
        // travels, so those records stay off whatever the configured level says.
        builder.Logging.AddFilter(HostingDiagnosticsCategory, LogLevel.Warning);

        // Quiet per-request framework chatter by default; any configuration source can still override this.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?> { ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning" },
        });

        var options = preset;
        if (options is null)
        {
            options = new SimulatorOptions();
            builder.Configuration.GetSection(SimulatorOptions.SectionName).Bind(options);
        }

        configure?.Invoke(options);
        options.Validate();

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(sp => new SimulatorState(sp.GetRequiredService<SimulatorOptions>()));
        builder.Services.Configure<JsonOptions>(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase);
        configureBuilder?.Invoke(builder);
        KeepHostingDiagnosticsQuiet(builder.Services);

        var app = builder.Build();
        var state = app.Services.GetRequiredService<SimulatorState>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("SmsPartner.Simulator");

        app.MapGet(StatusEndpoint.Path, (HttpContext context) => StatusEndpoint.HandleAsync(context, state, logger));
        AdminEndpoints.Map(app, logger);

        if (!string.IsNullOrWhiteSpace(options.SeedFile))
        {
            var path = ResolveSeedPath(options.SeedFile, app.Environment.ContentRootPath);
            var count = LoadSeedFile(state, path);
            SimulatorLog.SeedFileLoaded(logger, path, count);
        }

        if (options.Demo)
        {
            DemoSeed.Apply(state);
            SimulatorLog.DemoSeeded(logger, $"{DemoSeed.DemoTag}, {DemoSeed.DocumentedTag}");
        }

        return app;
    }

    /// <summary>Seeds <paramref name="state"/> from a seed file (format in docs/simulator.md). Returns the number of tags.</summary>
    public static int LoadSeedFile(SimulatorState state, string path)
    {
        ArgumentNullException.ThrowIfNull(state);
        SeedFile? seed;
        try
        {
            using var stream = File.OpenRead(path);
            seed = JsonSerializer.Deserialize<SeedFile>(stream, JsonSerializerOptions.Web);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new InvalidOperationException($"{SimulatorOptions.SectionName}:{nameof(SimulatorOptions.SeedFile)}: cannot read '{path}': {e.Message}", e);
        }

        if (seed is null)
        {
            throw new InvalidOperationException($"{SimulatorOptions.SectionName}:{nameof(SimulatorOptions.SeedFile)}: '{path}' holds no seed.");
        }

        try
        {
            if (seed.ApiKeys is { } keys)
            {
                state.SetValidKeys(keys);
            }

            foreach (var (tag, tagSeed) in seed.Tags)
            {
                state.SeedTag(tag, tagSeed);
            }
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"{SimulatorOptions.SectionName}:{nameof(SimulatorOptions.SeedFile)}: '{path}' is invalid: {e.Message}", e);
        }

        return seed.Tags.Count;
    }

    private const string HostingDiagnosticsCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>
    /// A provider-specific level (<c>Logging:Console:LogLevel:Default=Debug</c>) outranks a category rule that names
    /// no provider, so the same Warning floor is also set per registered provider, last, so that it wins.
    /// </summary>
    private static void KeepHostingDiagnosticsQuiet(IServiceCollection services)
    {
        var providerTypes = services
            .Where(d => d.ServiceType == typeof(ILoggerProvider))
            .Select(d => d.ImplementationType ?? d.ImplementationInstance?.GetType())
            .OfType<Type>()
            .Distinct()
            .ToList();
        services.Configure<LoggerFilterOptions>(o =>
        {
            foreach (var type in providerTypes)
            {
                o.Rules.Add(new LoggerFilterRule(type.FullName, HostingDiagnosticsCategory, LogLevel.Warning, filter: null));
            }
        });
    }

    private static string ResolveSeedPath(string path, string contentRoot)
    {
        if (Path.IsPathRooted(path) || File.Exists(path))
        {
            return Path.GetFullPath(path);
        }

        var underContentRoot = Path.Combine(contentRoot, path);
        return File.Exists(underContentRoot) ? underContentRoot : Path.GetFullPath(path);
    }
}
