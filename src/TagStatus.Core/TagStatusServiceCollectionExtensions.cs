using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using TagStatus.Core.Lookup;
using TagStatus.Core.Operations;
using TagStatus.Core.Queues;
using TagStatus.Core.Refresh;
using TagStatus.Core.Secrets;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.SmsPartner.Budget;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;

namespace TagStatus.Core;

public static class TagStatusServiceCollectionExtensions
{
    /// <summary>Everything Core offers a host: options validated at start, the SMS Partner client, the store and the services.</summary>
    public static IServiceCollection AddTagStatusCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);

        services.AddOptions<TrackingOptions>().Bind(configuration.GetSection(TrackingOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<LookupOptions>().Bind(configuration.GetSection(LookupOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<TagStoreOptions>().Bind(configuration.GetSection(TagStoreOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();

        services.AddTagStatusSecrets(configuration);
        services.AddSmsPartnerClient(configuration);
        services.AddTagStorage(configuration);

        // The app's meter; the hosts export it (OpenTelemetry, Application Insights in Azure).
        services.AddMetrics();
        services.AddSingleton<TagStatusMetrics>();
        services.AddSingleton<OperationsMonitor>();

        services.AddSingleton<TagStateRules>();
        services.AddSingleton<TagRefresher>();
        services.AddSingleton<StepwiseRefresher>();
        services.AddSingleton<InlineRead>();
        services.AddSingleton<TagLookupService>();
        services.AddSingleton<TrackingService>();
        services.AddSingleton<RefreshRunner>();
        services.AddSingleton<RefreshQueueProcessor>();
        services.AddSingleton<RefreshSweep>();
        services.AddCallbacks(configuration);
        return services;
    }

    /// <summary>
    /// The table service client, registered once: from a connection string (Azurite) or from the service URI with
    /// the app's one credential (managed identity in Azure), never an account key.
    /// </summary>
    private static IServiceCollection AddTagStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(TagStoreOptions.SectionName);
        var connectionString = section[nameof(TagStoreOptions.ConnectionString)];
        var serviceUri = section[nameof(TagStoreOptions.TableServiceUri)];
        var queueUri = section[nameof(WorkQueueOptions.QueueServiceUri)];

        services.AddTagStatusCredential(configuration);
        services.AddAzureClients(clients =>
        {
            // Validation at start names the missing setting; until then, register nothing that would throw first.
            if (!string.IsNullOrWhiteSpace(connectionString))
            {
                clients.AddTableServiceClient(connectionString).ConfigureOptions(ConfigureRetries);
                clients.AddQueueServiceClient(connectionString).ConfigureOptions(ConfigureQueues);
            }
            else if (Uri.TryCreate(serviceUri, UriKind.Absolute, out var uri))
            {
                clients.AddTableServiceClient(uri).ConfigureOptions(ConfigureRetries);
                if (Uri.TryCreate(queueUri, UriKind.Absolute, out var queues))
                {
                    clients.AddQueueServiceClient(queues).ConfigureOptions(ConfigureQueues);
                }

                clients.UseCredential(sp => sp.GetRequiredService<TokenCredential>());
            }
        });

        services.AddOptions<WorkQueueOptions>()
            .Configure(o =>
            {
                o.RefreshQueue = configuration[WorkQueueOptions.RefreshQueueSetting] is { Length: > 0 } refresh ? refresh : o.RefreshQueue;
                o.CallbacksQueue = configuration[WorkQueueOptions.CallbacksQueueSetting] is { Length: > 0 } callbacks ? callbacks : o.CallbacksQueue;
                o.QueueServiceUri = Uri.TryCreate(queueUri, UriKind.Absolute, out var uri) ? uri : null;
            })
            .Validate(o => !string.IsNullOrWhiteSpace(connectionString) || o.QueueServiceUri is not null,
                "Set TagStorage:QueueServiceUri (Azure, with the managed identity) next to TagStorage:TableServiceUri: the refresh and callback queues live there.")
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton(sp => new StorageWorkQueue(
            sp.GetService<QueueServiceClient>() ?? throw new OptionsValidationException(WorkQueueOptions.RefreshQueueSetting, typeof(WorkQueueOptions), ["Set TagStorage:QueueServiceUri or TagStorage:ConnectionString."]),
            sp.GetRequiredService<IOptions<WorkQueueOptions>>(),
            sp.GetRequiredService<IOptions<TagStoreOptions>>().Value.CreatesTablesAndQueues));
        services.AddSingleton<IWorkQueue>(sp => sp.GetRequiredService<StorageWorkQueue>());
        services.AddSingleton<IQueueLengths>(sp => sp.GetRequiredService<StorageWorkQueue>());

        services.AddSingleton<IPassStore>(sp => new TablePassStore(TableService(sp), sp.GetRequiredService<IOptions<TagStoreOptions>>()));
        services.AddOptions<RetentionOptions>().Bind(configuration.GetSection(RetentionOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new TableTagStore(
            TableService(sp),
            sp.GetRequiredService<IOptions<TagStoreOptions>>(),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<TableTagStore>>(),
            sp.GetRequiredService<ICommittedRowsHandler>(),
            sp.GetRequiredService<IOptions<RetentionOptions>>(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ITagStore>(sp => sp.GetRequiredService<TableTagStore>());
        services.AddSingleton<IRetentionStore>(sp => sp.GetRequiredService<TableTagStore>());
        services.AddSingleton<RetentionRunner>();

        // The SMS Partner call budget every instance shares, in the same account.
        services.AddSingleton<IBudgetStore>(sp =>
        {
            var store = sp.GetRequiredService<IOptions<TagStoreOptions>>().Value;
            return new TableBudgetStore(TableService(sp), store.TablePrefix, store.CreatesTablesAndQueues);
        });
        return services;
    }

    /// <summary>
    /// Subscriptions and the outbox. Callback HTTP goes through a handler that connects only to addresses the URL
    /// policy allows, follows no redirect, and logs nothing by default: callback URLs often carry a signature.
    /// </summary>
    private static IServiceCollection AddCallbacks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CallbackOptions>().Bind(configuration.GetSection(CallbackOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new CallbackUrlPolicy(sp.GetRequiredService<IOptions<CallbackOptions>>()));
        services.AddSingleton<ICallbackStore>(sp => new TableCallbackStore(TableService(sp), sp.GetRequiredService<IOptions<TagStoreOptions>>()));
        services.AddSingleton<IDeadLetterStore>(sp => new TableDeadLetterStore(TableService(sp), sp.GetRequiredService<IOptions<TagStoreOptions>>()));
        services.AddSingleton<DeadLetterService>();
        services.AddSingleton<ITagChangeObserver, CallbackObserver>();
        services.AddSingleton<ICommittedRowsHandler, DeliveryEnqueuer>();
        services.AddSingleton<SubscriptionService>();
        services.AddHttpClient<CallbackDispatcher>(http => http.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers()
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                ConnectCallback = sp.GetRequiredService<CallbackUrlPolicy>().ConnectAsync,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            });
        return services;
    }

    private static TableServiceClient TableService(IServiceProvider sp) =>
        sp.GetService<TableServiceClient>()
        ?? throw new OptionsValidationException(TagStoreOptions.SectionName, typeof(TagStoreOptions), ["Set TagStorage:ConnectionString or TagStorage:TableServiceUri."]);

    private static void ConfigureQueues(QueueClientOptions options)
    {
        // The Functions queue trigger reads base64 by default (host.json extensions.queues.messageEncoding).
        options.MessageEncoding = QueueMessageEncoding.Base64;
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
    }

    private static void ConfigureRetries(TableClientOptions options)
    {
        // A lookup waiting on storage should fail over to 503 in seconds, not minutes.
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
    }
}
