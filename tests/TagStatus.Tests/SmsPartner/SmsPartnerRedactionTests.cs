using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Moq;
using TagStatus.Core.Domain;
using TagStatus.Core.Secrets;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.SmsPartner.Budget;
using TagStatus.Tests.Support;
using static TagStatus.Tests.Support.SmsPartnerBodies;

namespace TagStatus.Tests.SmsPartner;

public sealed class SmsPartnerRedactionTests
{
    private const string Key = "SECRET-KEY-123";

    [Theory]
    [InlineData(
        "https://sim.test/v1/bulk-status-by-tag?apiKey=SECRET-KEY-123&tag=montag&page=1",
        "https://sim.test/v1/bulk-status-by-tag?apiKey=***&tag=montag&page=1")]
    [InlineData(
        "https://sim.test/v1/bulk-status-by-tag?tag=montag&APIKEY=SECRET-KEY-123",
        "https://sim.test/v1/bulk-status-by-tag?tag=montag&APIKEY=***")]
    [InlineData(
        "https://sim.test/v1/bulk-status-by-tag?apikey=k%2By%2F%3D%26&tag=a%26b",
        "https://sim.test/v1/bulk-status-by-tag?apikey=***&tag=a%26b")]
    [InlineData(
        "https://sim.test/v1/x?apiKey=one&page=2&ApiKey=two",
        "https://sim.test/v1/x?apiKey=***&page=2&ApiKey=***")]
    [InlineData(
        "https://sim.test/v1/x?tag=montag&page=1",
        "https://sim.test/v1/x?tag=montag&page=1")]
    [InlineData(
        "https://sim.test/v1/x?myapiKey=visible&tag=t",
        "https://sim.test/v1/x?myapiKey=visible&tag=t")]
    public void Redact_replaces_the_apiKey_value_case_insensitively_and_keeps_other_params(string uri, string expected) =>
        Assert.Equal(expected, SmsPartnerHttpLogger.Redact(new Uri(uri)));

    [Fact]
    public void Redact_of_no_uri_is_empty() => Assert.Equal(string.Empty, SmsPartnerHttpLogger.Redact(null));

    private static (ServiceProvider Provider, FakeLogCollector Logs, ScriptedHttpHandler Handler) Build(ScriptedHttpHandler handler)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SmsPartner:BaseUrl"] = "https://sim.test/v1/",
            ["SmsPartner:RetryBaseDelay"] = "00:00:00.010",
            ["SmsPartner:MaxRetries"] = "2",
        }).Build();

        var secrets = new Mock<ISecretSource>();
        secrets.Setup(s => s.GetAsync(AppSecret.SmsPartnerApiKey, It.IsAny<CancellationToken>())).Returns(() => new ValueTask<string>(Key));

        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddFakeLogging());
        services.AddSingleton(secrets.Object);
        services.AddSingleton<IBudgetStore>(new InMemoryBudgetStore());
        services.AddSmsPartnerClient(configuration);
        services.ConfigureHttpClientDefaults(http => http.ConfigurePrimaryHttpMessageHandler(() => handler));

        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        return (provider, provider.GetFakeLogCollector(), handler);
    }

    private static void AssertNoRecordHoldsTheKey(FakeLogCollector logs)
    {
        var records = logs.GetSnapshot();
        Assert.NotEmpty(records);
        foreach (var record in records)
        {
            var everything = string.Join('\n',
                new[] { record.Message, record.Exception?.ToString() ?? string.Empty }
                    .Concat(record.StructuredState?.Select(p => $"{p.Key}={p.Value}") ?? [])
                    .Concat(record.Scopes.Select(s => s?.ToString() ?? string.Empty)));
            Assert.False(everything.Contains(Key, StringComparison.Ordinal), $"Log record [{record.Category}] holds the key: {everything}");
        }
    }

    [Fact]
    public async Task Retried_calls_log_nothing_that_holds_the_key_in_any_category()
    {
        var (provider, logs, handler) = Build(ScriptedHttpHandler.Calls(
            _ => ScriptedHttpHandler.Text("oops", "text/plain", HttpStatusCode.InternalServerError),
            _ => ScriptedHttpHandler.Text("oops", "text/plain", HttpStatusCode.InternalServerError),
            _ => ScriptedHttpHandler.Json(Page("1", "1", Rows(1, 1)))));
        await using var _ = provider;

        var report = await provider.GetRequiredService<ISmsPartnerClient>().GetStatusesByTagAsync(Tag.Parse("montag"), default);

        Assert.Single(report.RowsRead);
        Assert.Equal(3, handler.Requests.Count);
        Assert.All(handler.Requests, r => Assert.Equal(Key, r.ApiKey));
        Assert.All(handler.Requests, r => Assert.Contains("application/json", r.Accept));

        AssertNoRecordHoldsTheKey(logs);
        var calls = logs.GetSnapshot().Where(r => r.Category == typeof(SmsPartnerHttpLogger).FullName).ToList();
        Assert.Equal(3, calls.Count);
        Assert.All(calls, r => Assert.Contains("bulk-status-by-tag?apiKey=***&tag=montag&page=1", r.Message, StringComparison.Ordinal));
        Assert.Equal(2, calls.Count(r => r.Message.Contains("answered 500", StringComparison.Ordinal)));
        Assert.Contains(logs.GetSnapshot(), r => r.Category?.StartsWith("Polly", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task A_successful_call_logs_one_redacted_uri_line()
    {
        var (provider, logs, handler) = Build(ScriptedHttpHandler.Pages(Page("1", "2", Rows(1, 2))));
        await using var _ = provider;

        await provider.GetRequiredService<ISmsPartnerClient>().GetStatusesByTagAsync(Tag.Parse("montag"), default);

        Assert.Single(handler.Requests);
        AssertNoRecordHoldsTheKey(logs);
        var line = Assert.Single(logs.GetSnapshot(), r => r.Category == typeof(SmsPartnerHttpLogger).FullName);
        Assert.Contains("https://sim.test/v1/bulk-status-by-tag?apiKey=***&tag=montag&page=1", line.Message, StringComparison.Ordinal);
        Assert.Contains("answered 200", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retries_that_never_succeed_end_unavailable_without_leaking_the_key()
    {
        var (provider, logs, handler) = Build(ScriptedHttpHandler.Always(_ => ScriptedHttpHandler.Text("down", "text/plain", HttpStatusCode.ServiceUnavailable)));
        await using var _ = provider;

        var e = await Assert.ThrowsAsync<SmsPartnerUnavailableException>(() =>
            provider.GetRequiredService<ISmsPartnerClient>().GetStatusesByTagAsync(Tag.Parse("montag"), default));

        Assert.Equal(3, handler.Requests.Count);
        Assert.DoesNotContain(Key, e.ToString(), StringComparison.Ordinal);
        AssertNoRecordHoldsTheKey(logs);
    }

    [Fact]
    public async Task A_network_failure_through_the_pipeline_logs_no_key()
    {
        var (provider, logs, handler) = Build(ScriptedHttpHandler.Always(r => throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused")));
        await using var _ = provider;

        await Assert.ThrowsAsync<SmsPartnerUnavailableException>(() =>
            provider.GetRequiredService<ISmsPartnerClient>().GetStatusesByTagAsync(Tag.Parse("montag"), default));

        Assert.Equal(3, handler.Requests.Count);
        AssertNoRecordHoldsTheKey(logs);
        Assert.Contains(logs.GetSnapshot(), r => r.Category == typeof(SmsPartnerHttpLogger).FullName && r.Message.Contains("apiKey=***", StringComparison.Ordinal));
    }
}
