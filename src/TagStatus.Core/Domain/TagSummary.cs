namespace TagStatus.Core.Domain;

/// <summary>A tag's stored summary: what listing and scheduling read, without any recipient row.</summary>
public sealed record TagSummary(
    Tag Tag,
    TagState State,
    TagCounts Counts,
    bool Tracked,
    DateTimeOffset FirstSeenAt,
    DateTimeOffset RefreshedAt,
    DateTimeOffset? CompletedAt,
    DateTimeOffset? NextRefreshAt,
    int FailedRefreshes = 0);

/// <summary>A tag with every one of its recipients.</summary>
public sealed record TagSnapshot(TagSummary Summary, IReadOnlyList<Recipient> Recipients);
