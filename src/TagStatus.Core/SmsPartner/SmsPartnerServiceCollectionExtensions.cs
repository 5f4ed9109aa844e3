using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using TagStatus.Core.Operations;
using TagStatus.Core.SmsPartner.Budget;

namespace TagStatus.Core.SmsPartner;

public static class SmsPartnerServiceCollectionExtensions
{
    /// <summary>
    /// The typed SMS Partner client with its resilience pipeline, outermost first: a total timeout, retries with jitter on
    /// 5xx/408/429 (honouring <c>Retry-After</c>) and timeouts, a circuit breaker, the shared call budget, and a
    /// per-attempt timeout. It is the standard pipeline's order with the budget inside the retry, so every attempt pays a
    /// token from the budget all instances share (<see cref="UpstreamBudget"/>), and outside the attempt timeout, so
    /// waiting for a token never counts as a failed attempt. Logging goes through <see cref="SmsPartnerHttpLogger"/>
    /// only, which redacts the key. The budget's rows need an <see cref="IBudgetStore"/> (Table Storage in the app).
    /// </summary>
    public static IServiceCollection AddSmsPartnerClient(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<SmsPartnerOptions>()
            .Bind(configuration.GetSection(SmsPartnerOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.AddSingleton(sp => new UpstreamBudget(
            sp.GetRequiredService<IBudgetStore>(),
            BudgetRules.From(sp.GetRequiredService<IOptions<SmsPartnerOptions>>().Value),
            BudgetClock(sp),
            sp.GetRequiredService<ILogger<UpstreamBudget>>()));

        services.AddHttpClient<ISmsPartnerClient, SmsPartnerClient>(http =>
            {
                // The resilience pipeline owns the timeouts.
                http.Timeout = Timeout.InfiniteTimeSpan;
                http.DefaultRequestHeaders.Accept.ParseAdd("application/json");
            })
            .RemoveAllLoggers()
            .AddLogger(sp => new SmsPartnerHttpLogger(sp.GetRequiredService<ILogger<SmsPartnerHttpLogger>>(), sp.GetService<TagStatusMetrics>()))
            .AddResilienceHandler("SmsPartner", (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<SmsPartnerOptions>>().Value;
                var budget = context.ServiceProvider.GetRequiredService<UpstreamBudget>();
                var clock = BudgetClock(context.ServiceProvider);
                var logger = context.ServiceProvider.GetRequiredService<ILogger<UpstreamBudget>>();

                pipeline.AddTimeout(new HttpTimeoutStrategyOptions { Name = "TotalTimeout", Timeout = options.TotalTimeout });
                if (options.MaxRetries > 0)
                {
                    // Polly refuses MaxRetryAttempts = 0; SmsPartner:MaxRetries = 0 means no retry step at all.
                    pipeline.AddRetry(new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = options.MaxRetries,
                        Delay = options.RetryBaseDelay,
                        MaxDelay = options.TotalTimeout,
                    });
                }

                pipeline
                    .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
                    {
                        SamplingDuration = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(30).Ticks, options.AttemptTimeout.Ticks * 2)),
                    })
                    .AddStrategy(_ => new UpstreamBudgetStrategy(budget, clock, logger), new UpstreamBudgetStrategyOptions())
                    .AddTimeout(new HttpTimeoutStrategyOptions { Name = "AttemptTimeout", Timeout = options.AttemptTimeout });
            });

        return services;
    }

    private static TimeProvider BudgetClock(IServiceProvider sp) =>
        sp.GetKeyedService<TimeProvider>(UpstreamBudget.ClockKey) ?? sp.GetRequiredService<TimeProvider>();
}
