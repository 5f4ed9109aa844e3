using System.Diagnostics.Metrics;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Operations;

/// <summary>
/// The app's OpenTelemetry meter (<see cref="MeterName"/>), exported to Application Insights with the traces. Our own
/// names live under <c>tagstatus.</c> (no semantic convention covers a refresh backlog); attributes use the
/// semantic-convention names where one exists (<c>http.response.status_code</c>, <c>error.type</c>,
/// <c>messaging.destination.name</c>). The .NET runtime's own <c>http.client.request.duration</c> covers every HTTP call.
/// </summary>
public sealed class TagStatusMetrics
{
    public const string MeterName = "TagStatus";

    /// <summary>The instruments' names: the Bicep's workbook and alert rules query the same (the infra tests compare).</summary>
    public static class Names
    {
        public const string OldestLateness = "tagstatus.refresh.backlog.oldest_lateness";
        public const string Backlog = "tagstatus.refresh.backlog";
        public const string RefreshLag = "tagstatus.refresh.lag";
        public const string UpstreamRequests = "tagstatus.upstream.requests";
        public const string PagesPerRefresh = "tagstatus.refresh.pages";
        public const string RowsWritten = "tagstatus.store.rows_written";
        public const string CallbackDeliveries = "tagstatus.callback.deliveries";
        public const string QueueLength = "tagstatus.queue.length";

        /// <summary>The <c>tagstatus.callback.outcome</c> of an event given up: what the dead-letter alert counts.</summary>
        public const string DeadLetteredOutcome = "dead_lettered";

        public static IReadOnlyList<string> All { get; } = [Backlog, OldestLateness, RefreshLag, UpstreamRequests, PagesPerRefresh, RowsWritten, CallbackDeliveries, QueueLength];
    }

    private readonly Gauge<long> _backlog;
    private readonly Gauge<double> _oldestLateness;
    private readonly Histogram<double> _refreshLag;
    private readonly Counter<long> _upstreamRequests;
    private readonly Histogram<int> _pagesPerRefresh;
    private readonly Counter<long> _rowsWritten;
    private readonly Counter<long> _callbackDeliveries;
    private readonly Gauge<long> _queueLength;

    public TagStatusMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _backlog = meter.CreateGauge<long>(Names.Backlog, "{tag}", "Tags whose refresh is due and not yet queued, as the last timer run found them (at most Tracking:MaxClaimsPerRun).");
        _oldestLateness = meter.CreateGauge<double>(Names.OldestLateness, "s", "How late the oldest due refresh is.");
        _refreshLag = meter.CreateHistogram<double>(Names.RefreshLag, "s", "From a tag's planned refresh to the refresh done, by tag age band.");
        _upstreamRequests = meter.CreateCounter<long>(Names.UpstreamRequests, "{request}", "HTTP attempts to SMS Partner, retries included, by status code (429: throttled).");
        _pagesPerRefresh = meter.CreateHistogram<int>(Names.PagesPerRefresh, "{page}", "SMS Partner pages one stored refresh read.");
        _rowsWritten = meter.CreateCounter<long>(Names.RowsWritten, "{row}", "Table rows a refresh wrote (recipients, summary and the rows written with it, index).");
        _callbackDeliveries = meter.CreateCounter<long>(Names.CallbackDeliveries, "{delivery}", "Callback delivery attempts by outcome: delivered, retried, dead_lettered (given up or refused for good), unsubscribed (410).");
        _queueLength = meter.CreateGauge<long>(Names.QueueLength, "{message}", "Approximate messages in a work queue or its poison queue.");
    }

    /// <summary>The due rows a timer run found, oldest first; none means no backlog and no lateness.</summary>
    public void RecordBacklog(IReadOnlyList<DueTag> due, DateTimeOffset now)
    {
        _backlog.Record(due.Count);
        _oldestLateness.Record(OldestLateness(due, now).TotalSeconds);
    }

    /// <summary>How late the oldest of the due rows is; zero when none is due.</summary>
    public static TimeSpan OldestLateness(IReadOnlyList<DueTag> due, DateTimeOffset now) =>
        due.Count == 0 || now - due.Min(row => row.DueAt) is not { Ticks: > 0 } late ? TimeSpan.Zero : late;

    public void RecordRefreshLag(TimeSpan lag, string ageBand) =>
        _refreshLag.Record(Math.Max(0, lag.TotalSeconds), new KeyValuePair<string, object?>("tagstatus.tag.age_band", ageBand));

    public void RecordUpstreamResponse(int statusCode) =>
        _upstreamRequests.Add(1, new KeyValuePair<string, object?>("http.response.status_code", statusCode));

    public void RecordUpstreamFailure(Exception failure) =>
        _upstreamRequests.Add(1, new KeyValuePair<string, object?>("error.type", failure.GetType().FullName));

    public void RecordRefreshWrite(int pagesRead, int rowsWritten)
    {
        _pagesPerRefresh.Record(pagesRead);
        _rowsWritten.Add(rowsWritten);
    }

    public void RecordDelivery(DeliveryOutcome outcome, bool unsubscribed = false)
    {
        var name = outcome switch
        {
            DeliveryOutcome.Delivered => "delivered",
            DeliveryOutcome.Retried => "retried",
            DeliveryOutcome.Dropped when unsubscribed => "unsubscribed",
            DeliveryOutcome.Dropped or DeliveryOutcome.DeadLettered => Names.DeadLetteredOutcome,
            _ => null,
        };
        if (name is not null)
        {
            _callbackDeliveries.Add(1, new KeyValuePair<string, object?>("tagstatus.callback.outcome", name));
        }
    }

    public void RecordQueueLength(string queue, long messages) =>
        _queueLength.Record(messages, new KeyValuePair<string, object?>("messaging.destination.name", queue));
}
