namespace TagStatus.Core.Domain;

/// <summary>A tag's stored summary: what listing and scheduling read, without any recipient row.</summary>
/// <param name="UpstreamTotal">The <c>total</c> SMS Partner announced on the last read, or null when it announced none.</param>
/// <param name="PartialReason">Why the last read was not a full pass (see <see cref="UpstreamPass"/>), or null when it was.</param>
/// <param name="WindowStartedAt">When the tracking window opened: first seen, or reopened; null on summaries stored before reopening existed.</param>
/// <param name="RecipientsMonth">The month table (<c>yyyyMM</c>) holding the tag's recipients, chosen by the store on the first write and kept for the tag's life; null for tags stored in the single table of earlier versions.</param>
/// <param name="LastPassPages">SMS Partner pages the last full pass took (its page size is not documented); null before one was counted.</param>
/// <param name="RecipientsVersion">A hash of every recipient as stored (<see cref="RecipientsVersions"/>), so a lookup can tell an unchanged answer without reading a recipient row; null on summaries stored before it existed.</param>
public sealed record TagSummary(
    Tag Tag,
    TagState State,
    TagCounts Counts,
    bool Tracked,
    DateTimeOffset FirstSeenAt,
    DateTimeOffset RefreshedAt,
    DateTimeOffset? CompletedAt,
    DateTimeOffset? NextRefreshAt,
    int FailedRefreshes = 0,
    int? UpstreamTotal = null,
    string? PartialReason = null,
    DateTimeOffset? WindowStartedAt = null,
    string? RecipientsVersion = null,
    string? RecipientsMonth = null,
    int? LastPassPages = null)
{
    /// <summary>The start of the tracking window: expiry and back-off count from here.</summary>
    public DateTimeOffset WindowStart => WindowStartedAt ?? FirstSeenAt;

    /// <summary>SMS Partner's page size as seen on its sibling endpoints; only an estimate of a tag's pages.</summary>
    public const int EstimatedRowsPerPage = 20;

    /// <summary>True when the last read of SMS Partner was not a full pass.</summary>
    public bool Partial => PartialReason is not null;

    /// <summary>
    /// About how many SMS Partner pages a read of the tag takes: as many as its last full pass took, or by its stored
    /// recipients at 20 a page before one was counted (pages of 1,000 rows would otherwise count 50 times over, and the
    /// timer would queue a fiftieth of what the budget allows).
    /// </summary>
    public int EstimatedPages => LastPassPages is > 0 and var pages
        ? pages
        : Math.Max(1, (Counts.Total + EstimatedRowsPerPage - 1) / EstimatedRowsPerPage);
}

/// <summary>A tag as a refresh stored it.</summary>
/// <param name="Recipients">
/// Every recipient, ordered by number then occurrence, when the tag was merged as one range; null for a bigger tag,
/// merged range by range without holding all of it (its lookups page through the store anyway).
/// </param>
public sealed record TagSnapshot(TagSummary Summary, IReadOnlyList<Recipient>? Recipients);
