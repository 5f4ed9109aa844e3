using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using TagStatus.Api;
using TagStatus.Api.Hosting;
using TagStatus.LocalHost;

// The Functions app's routes, handlers, timer and queue functions on plain ASP.NET Core, for machines without Azure Functions Core
// Tools. Same settings names as local.settings.json (environment variables with "__"); no behaviour of its own.
var builder = WebApplication.CreateBuilder(args);

// The Functions worker's filters: Azure SDK and HttpClient request lines at Warning; request URLs may carry the key in ?code=.
builder.Logging.AddQuietAzureSdkLogs();

builder.Services.AddTagStatusApi(builder.Configuration);
builder.Services.AddSingleton<FunctionKeyCheck>();
builder.Services.AddSingleton(RefreshScheduler.ReadSchedule(builder.Configuration));
builder.Services.AddHostedService<RefreshScheduler>();
builder.Services.AddHostedService<RetentionScheduler>();
builder.Services.AddHostedService<QueueWorker>();

var app = builder.Build();
var keys = app.Services.GetRequiredService<FunctionKeyCheck>();
if (!keys.Enabled)
{
    LocalHostLog.KeysNotChecked(app.Logger, FunctionKeyCheck.Setting);
}

var api = app.MapGroup("/" + LocalRoutes.Prefix);
foreach (var route in LocalRoutes.All)
{
    api.MapMethods(route.Template, [route.Method], async context =>
    {
        if (route.Auth == RouteAuth.Function && !keys.Allows(context.Request))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        var result = await route.Invoke(context).ConfigureAwait(false);
        await result.ExecuteResultAsync(new ActionContext(context, context.GetRouteData(), new ActionDescriptor())).ConfigureAwait(false);
    }).WithName(route.Name);
}

await app.RunAsync().ConfigureAwait(false);

internal static partial class LocalHostLog
{
    [LoggerMessage(7001, LogLevel.Warning, "{Setting} is not set: function keys are not checked (as under func start)")]
    public static partial void KeysNotChecked(ILogger logger, string setting);
}
