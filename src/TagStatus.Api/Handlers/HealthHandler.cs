using Microsoft.AspNetCore.Mvc;
using TagStatus.Api.Contracts;
using TagStatus.Api.Http;
using TagStatus.Core.Operations;
using TagStatus.Core.Storage;

namespace TagStatus.Api.Handlers;

/// <summary>
/// <c>GET /api/health</c> (function key): the refresh backlog and the work queues now, what the Azure Monitor workbook
/// charts, for a local run or a quick look without the portal. It reads only due schedule rows and four queue properties.
/// </summary>
public sealed class HealthHandler(OperationsMonitor monitor)
{
    public async Task<IActionResult> GetAsync(CancellationToken cancellationToken)
    {
        try
        {
            var now = await monitor.ObserveAsync(cancellationToken).ConfigureAwait(false);
            return ApiResults.Ok(
                new HealthResponse(now.ObservedAt, now.DueTags, now.DueTagsCapped, now.OldestLateness.TotalSeconds, [.. now.Queues.Select(q => new QueueLengthDto(q.Queue, q.Messages))]),
                ApiJsonContext.Api.HealthResponse);
        }
        catch (StoreUnavailableException)
        {
            return TrackingHandler.StorageUnavailable();
        }
    }
}
