using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using TagStatus.Api;
using TagStatus.Api.Hosting;
using TagStatus.Core.Operations;
using TagStatus.Core.Secrets;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();

// Application Insights in Azure, with Entra authentication (the resource has local auth off) through the app's
// identity; the host's console locally.
// The app's meter (backlog, refresh lag, upstream calls, callbacks, queues) and the runtime's HTTP client metrics
// (http.client.request.duration) go the same way as the traces.
var telemetry = builder.Services.AddOpenTelemetry().UseFunctionsWorkerDefaults()
    .WithMetrics(metrics => metrics.AddMeter(TagStatusMetrics.MeterName, "System.Net.Http"));
if (!string.IsNullOrEmpty(builder.Configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"]))
{
    telemetry.UseAzureMonitorExporter(exporter => exporter.Credential = TagStatusCredential.Create(builder.Configuration));
}

// Azure SDK request lines at Warning (one per storage request would grow ingestion with traffic); request URLs may carry
// the function key in ?code=. The same filters as the LocalHost.
builder.Logging.AddQuietAzureSdkLogs();

builder.Services.AddTagStatusApi(builder.Configuration);

builder.Build().Run();
