using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TagStatus.Api.Handlers;
using TagStatus.Api.Http;
using TagStatus.Core;

namespace TagStatus.Api;

public static class ApiServiceCollectionExtensions
{
    /// <summary>Core plus the HTTP handlers: what the Functions app and the local host both register.</summary>
    public static IServiceCollection AddTagStatusApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddTagStatusCore(configuration);
        services.AddOptions<PublicUrlOptions>().Bind(configuration.GetSection(PublicUrlOptions.SectionName));
        services.AddSingleton<TagLookupHandler>();
        services.AddSingleton<TrackingHandler>();
        services.AddSingleton<SubscriptionHandler>();
        services.AddSingleton<DeadLetterHandler>();
        services.AddSingleton<OpenApiHandler>();
        services.AddSingleton<HealthHandler>();
        return services;
    }
}
