using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Moq;

namespace SmsPartner.Simulator.Tests;

public sealed class InProcessApiTests
{
    [Fact]
    public async Task Start_binds_a_free_loopback_port_and_exposes_v1_base_uri_with_trailing_slash()
    {
        await using var first = await SimulatorApp.StartAsync();
        await using var second = await SimulatorApp.StartAsync();

        Assert.Equal("127.0.0.1", first.BaseUri.Host);
        Assert.NotEqual(0, first.BaseUri.Port);
        Assert.NotEqual(first.BaseUri.Port, second.BaseUri.Port);
        Assert.Equal("/v1/", first.BaseUri.AbsolutePath);
        Assert.Equal("/_admin/", first.AdminUri.AbsolutePath);

        using var http = new HttpClient { BaseAddress = first.BaseUri };
        first.State.SeedTag("montag", DemoSeed.DocumentedExample);
        var text = await http.GetStringAsync("bulk-status-by-tag?apiKey=sim-key&tag=montag");
        Assert.Contains("\"total\":2", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disposing_stops_the_listener()
    {
        var sim = await SimulatorApp.StartAsync();
        var uri = new Uri(sim.RootUri, "_admin/health");
        using var http = new HttpClient();
        Assert.True((await http.GetAsync(uri)).IsSuccessStatusCode);

        await sim.DisposeAsync();

        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(uri));
    }

    [Fact]
    public async Task A_base_time_provider_can_be_injected()
    {
        var fake = new Mock<TimeProvider>();
        var at = new DateTimeOffset(2018, 2, 7, 22, 0, 0, TimeSpan.Zero);
        fake.Setup(t => t.GetUtcNow()).Returns(at);

        await using var sim = await SimulatorApp.StartAsync(new SimulatorOptions { TimeProvider = fake.Object });
        sim.State.SeedTag("t", [new RecipientSeed { PhoneNumber = "+33600000001" }]);
        sim.State.AdvanceClock(TimeSpan.FromSeconds(11));

        Assert.Equal(at.AddSeconds(11), sim.State.Now);
        Assert.Equal(at.ToUnixTimeSeconds(), sim.State.GetRows("t")![0].DateUnixSeconds);
    }

    [Fact]
    public async Task Api_keys_never_reach_the_logs_even_at_trace_level()
    {
        var capture = new CapturingLoggerProvider();
        await using var sim = await SimulatorApp.StartAsync(new SimulatorOptions { ApiKey = "topsecretkey" }, builder =>
        {
            builder.Configuration["Logging:LogLevel:Default"] = "Trace";
            builder.Configuration["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace";
            builder.Logging.AddProvider(capture);
            builder.Logging.AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace);
        });
        sim.State.SeedTag("montag", DemoSeed.DocumentedExample);
        using var http = new HttpClient();

        await http.GetStringAsync(sim.StatusUri("montag"));
        await http.GetStringAsync(sim.StatusUri("montag", apiKey: "wrongsecretkey"));
        await http.GetStringAsync(sim.StatusUri("nosuchtag"));

        var messages = capture.Messages.ToList();
        Assert.Contains(messages, m => m.Contains("API key accepted", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("API key invalid", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("bulk-status-by-tag", StringComparison.Ordinal)); // trace really on for ASP.NET Core
        Assert.DoesNotContain(messages, m => m.Contains("secretkey", StringComparison.Ordinal));
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Messages { get; } = new();

        public ILogger CreateLogger(string categoryName) => new CapturingLogger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class CapturingLogger(CapturingLoggerProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var structured = state is IEnumerable<KeyValuePair<string, object?>> pairs
                    ? string.Join(";", pairs.Select(p => $"{p.Key}={p.Value}"))
                    : "";
                owner.Messages.Enqueue($"{category}: {formatter(state, exception)} {structured} {exception}");
            }
        }
    }
}
