using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Moq;
using TagStatus.Core.Domain;
using TagStatus.Core.Secrets;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.SmsPartner.Budget;
using TagStatus.Tests.Support;
using static TagStatus.Tests.Support.SmsPartnerBodies;

namespace TagStatus.Tests.SmsPartner.Budget;

/// <summary>The budget inside the real SMS Partner pipeline, as <c>AddSmsPartnerClient</c> composes it.</summary>
public sealed class UpstreamBudgetPipelineTests
{
    private const string Key = "SECRET-KEY-123";
    private static readonly Tag MonTag = Tag.Parse("montag");

    private static ServiceProvider Build(ScriptedHttpHandler handler, IBudgetStore store, int maxRetries = 2)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SmsPartner:BaseUrl"] = "https://sim.test/v1/",
            ["SmsPartner:RetryBaseDelay"] = "00:00:00.010",
            ["SmsPartner:MaxRetries"] = maxRetries.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Fast enough that no call here waits for a token; one token per write, so writes count attempts.
            ["SmsPartner:RequestsPerSecond"] = "1000",
            ["SmsPartner:BudgetBatchSize"] = "1",
        }).Build();

        var secrets = new Mock<ISecretSource>();
        secrets.Setup(s => s.GetAsync(AppSecret.SmsPartnerApiKey, It.IsAny<CancellationToken>())).Returns(() => new ValueTask<string>(Key));

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(secrets.Object);
        services.AddSingleton(store);
        services.AddSmsPartnerClient(configuration);
        services.ConfigureHttpClientDefaults(http => http.ConfigurePrimaryHttpMessageHandler(() => handler));
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    [Fact]
    public async Task Every_attempt_retries_included_spends_a_token()
    {
        var store = new InMemoryBudgetStore();
        var handler = ScriptedHttpHandler.Calls(
            _ => ScriptedHttpHandler.Text("oops", "text/plain", HttpStatusCode.InternalServerError),
            _ => ScriptedHttpHandler.Text("oops", "text/plain", HttpStatusCode.InternalServerError),
            _ => ScriptedHttpHandler.Json(Page("1", "1", Rows(1, 1))));
        await using var provider = Build(handler, store);

        await provider.GetRequiredService<ISmsPartnerClient>().GetStatusesByTagAsync(MonTag, default);

        Assert.Equal(3, handler.Requests.Count);
        Assert.Equal(1 + 3, store.Writes); // the row's creation, then one take per attempt
        Assert.Equal([UpstreamBudget.HashOf(Key)], store.Keys);
    }

    [Fact]
    public async Task A_429_stores_its_retry_after_in_the_shared_row()
    {
        var store = new InMemoryBudgetStore();
        var handler = ScriptedHttpHandler.Always(_ =>
        {
            var response = ScriptedHttpHandler.Text("slow down", "text/plain", HttpStatusCode.TooManyRequests);
            response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(30));
            return response;
        });
        await using var provider = Build(handler, store, maxRetries: 0);
        var before = DateTimeOffset.UtcNow;

        var e = await Assert.ThrowsAsync<SmsPartnerUnavailableException>(() =>
            provider.GetRequiredService<ISmsPartnerClient>().GetStatusesByTagAsync(MonTag, default));

        var blockedUntil = store.StateOf(UpstreamBudget.HashOf(Key))!.Value.BlockedUntil!.Value;
        Assert.InRange(blockedUntil, before.AddSeconds(30), DateTimeOffset.UtcNow.AddSeconds(30));
        Assert.Equal(TimeSpan.FromSeconds(30), e.RetryAfter);
    }

    [Fact]
    public async Task A_budget_that_cannot_be_reached_fails_closed_and_nothing_is_sent()
    {
        var store = new Mock<IBudgetStore>();
        store.Setup(s => s.ReadAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new UpstreamBudgetUnavailableException("The shared SMS Partner call budget in Table Storage could not be reached."));
        var handler = ScriptedHttpHandler.Always(_ => ScriptedHttpHandler.Json(Page("1", "1", Rows(1, 1))));
        await using var provider = Build(handler, store.Object);

        var e = await Assert.ThrowsAsync<SmsPartnerUnavailableException>(() =>
            provider.GetRequiredService<ISmsPartnerClient>().GetStatusesByTagAsync(MonTag, default));

        Assert.Empty(handler.Requests);
        Assert.Contains("shared call budget", e.Message, StringComparison.Ordinal);
        Assert.Equal(UpstreamBudgetUnavailableException.RetryAfter, e.RetryAfter);
        Assert.DoesNotContain(Key, e.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://sim.test/v1/x?apiKey=abc&tag=t", "abc")]
    [InlineData("https://sim.test/v1/x?tag=t&APIKEY=k%2By%2F%3D%26", "k+y/=&")]
    [InlineData("https://sim.test/v1/x?tag=t", "")]
    public void The_key_is_read_from_the_query_unescaped(string uri, string expected) =>
        Assert.Equal(expected, UpstreamBudgetStrategy.ApiKeyOf(new HttpRequestMessage(HttpMethod.Get, uri)));
}
