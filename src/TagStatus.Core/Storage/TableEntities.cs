using Azure;
using Azure.Data.Tables;

namespace TagStatus.Core.Storage;

/// <summary>A tag's summary row (<c>Tags</c> table, partition = tag, row <c>summary</c>).</summary>
internal sealed class SummaryEntity : ITableEntity
{
    public string PartitionKey { get; set; } = string.Empty;
    public string RowKey { get; set; } = TableKeys.SummaryRow;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Tag { get; set; } = string.Empty;
    public string State { get; set; } = string.Empty;
    public bool Tracked { get; set; }
    public int Total { get; set; }
    public int Delivered { get; set; }
    public int NotDelivered { get; set; }
    public int Waiting { get; set; }
    public int Unknown { get; set; }

    /// <summary>Null on summaries stored before opt-outs were counted.</summary>
    public int? OptedOut { get; set; }
    public DateTimeOffset FirstSeenAt { get; set; }
    public DateTimeOffset RefreshedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public DateTimeOffset? NextRefreshAt { get; set; }
    public int FailedRefreshes { get; set; }
    public int? UpstreamTotal { get; set; }
    public string? PartialReason { get; set; }
    public DateTimeOffset? WindowStartedAt { get; set; }
    public string? RecipientsVersion { get; set; }
    public string? RecipientsMonth { get; set; }

    /// <summary>Null on summaries stored before pages were counted.</summary>
    public int? LastPassPages { get; set; }
}

/// <summary>One recipient row (<c>Recipients</c> table, partition = tag, row = number and occurrence).</summary>
internal sealed class RecipientEntity : ITableEntity
{
    public string PartitionKey { get; set; } = string.Empty;
    public string RowKey { get; set; } = string.Empty;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string PhoneNumber { get; set; } = string.Empty;
    public int Occurrence { get; set; }
    public string Status { get; set; } = string.Empty;
    public string RawStatus { get; set; } = string.Empty;
    public bool StopSms { get; set; }
    public DateTimeOffset? StatusAt { get; set; }
}

/// <summary>
/// The claim on a tag's upstream read (<c>Tags</c> table, partition = tag, row <c>refreshing</c>): held by the lookup
/// whose ETag-conditional write set <see cref="RefreshingUntil"/>, until then.
/// </summary>
internal sealed class RefreshClaimEntity : ITableEntity
{
    public string PartitionKey { get; set; } = string.Empty;
    public string RowKey { get; set; } = TableKeys.RefreshClaimRow;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public DateTimeOffset RefreshingUntil { get; set; }
}
