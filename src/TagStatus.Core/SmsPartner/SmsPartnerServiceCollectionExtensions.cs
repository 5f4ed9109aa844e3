using System.Threading.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace TagStatus.Core.SmsPartner;

public static class SmsPartnerServiceCollectionExtensions
{
    /// <summary>
    /// The typed SMS Partner client with its resilience pipeline: a rate limit per API key, a total timeout,
    /// retries with jitter on 5xx/408/429 (honouring <c>Retry-After</c>) and timeouts, a circuit breaker and a
    /// per-attempt timeout. Logging goes through <see cref="SmsPartnerHttpLogger"/> only, which redacts the key.
    /// </summary>
    public static IServiceCollection AddSmsPartnerClient(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<SmsPartnerOptions>()
            .Bind(configuration.GetSection(SmsPartnerOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.AddSingleton(sp => new SmsPartnerRateLimiter(sp.GetRequiredService<IOptions<SmsPartnerOptions>>().Value.RequestsPerSecond));

        services.AddHttpClient<ISmsPartnerClient, SmsPartnerClient>(http =>
            {
                // The resilience pipeline owns the timeouts.
                http.Timeout = Timeout.InfiniteTimeSpan;
                http.DefaultRequestHeaders.Accept.ParseAdd("application/json");
            })
            .RemoveAllLoggers()
            .AddLogger(sp => new SmsPartnerHttpLogger(sp.GetRequiredService<ILogger<SmsPartnerHttpLogger>>()))
            .AddStandardResilienceHandler()
            .Configure((resilience, sp) =>
            {
                var options = sp.GetRequiredService<IOptions<SmsPartnerOptions>>().Value;
                var limiter = sp.GetRequiredService<SmsPartnerRateLimiter>();

                resilience.RateLimiter.RateLimiter = args => limiter.AcquireAsync(args.Context.GetRequestMessage(), args.Context.CancellationToken);
                resilience.TotalRequestTimeout.Timeout = options.TotalTimeout;
                resilience.AttemptTimeout.Timeout = options.AttemptTimeout;
                resilience.Retry.MaxRetryAttempts = options.MaxRetries;
                resilience.Retry.Delay = options.RetryBaseDelay;
                resilience.Retry.MaxDelay = options.TotalTimeout;
                resilience.CircuitBreaker.SamplingDuration = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(30).Ticks, options.AttemptTimeout.Ticks * 2));
            });

        return services;
    }
}

/// <summary>A token bucket per API key, so one key never exceeds <see cref="SmsPartnerOptions.RequestsPerSecond"/>.</summary>
internal sealed class SmsPartnerRateLimiter(int requestsPerSecond) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(apiKey =>
        RateLimitPartition.GetTokenBucketLimiter(apiKey, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = requestsPerSecond,
            TokensPerPeriod = requestsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 10_000,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        }));

    public ValueTask<RateLimitLease> AcquireAsync(HttpRequestMessage? request, CancellationToken cancellationToken) =>
        _limiter.AcquireAsync(ApiKeyOf(request), 1, cancellationToken);

    private static string ApiKeyOf(HttpRequestMessage? request)
    {
        var query = request?.RequestUri?.Query ?? string.Empty;
        foreach (var pair in query.TrimStart('?').Split('&'))
        {
            if (pair.StartsWith("apiKey=", StringComparison.OrdinalIgnoreCase))
            {
                return pair;
            }
        }

        return string.Empty;
    }

    public void Dispose() => _limiter.Dispose();
}
