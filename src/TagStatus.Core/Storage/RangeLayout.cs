using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using TagStatus.Core.Domain;

namespace TagStatus.Core.Storage;

/// <summary>What the last full write of one range left: the digest of the pass's rows it merged, and the rows' counts and version.</summary>
/// <param name="FromNumber">The range's first number (null for the first range): the boundaries of the next pass.</param>
public sealed record RangeState(string? FromNumber, string Digest, TagCounts Counts, RecipientsVersion Version);

/// <summary>
/// The ranges a big tag was last merged in (<c>Tags</c> table, the tag's partition, row <c>ranges</c>), written in the
/// summary's own transaction, so a range whose upstream rows have the digest they had then is neither read nor written.
/// It holds only while the stored rows are the ones it describes: <see cref="RecipientsVersion"/> must equal the
/// summary's, and a refresh replaces it with a tombstone before it writes any row
/// (<see cref="ITagStore.ForgetRangeLayoutAsync"/>), so a write that dies halfway leaves no layout to trust. The write of
/// a new layout is conditional on the row as the writer read it before its first range (<see cref="Replacing"/>), so a
/// writer whose rows were read before another one's tombstone cannot bring a layout back over rows it never saw.
/// </summary>
public sealed record RangeLayout(string RecipientsVersion, IReadOnlyList<RangeState> Ranges) : TagCompanionRow
{
    internal const string Row = "ranges";

    /// <summary>The ETag of the layout row as read before the merge (a layout or a tombstone); null when there was none.</summary>
    public ETag? Replacing { get; init; }

    internal override TableTransactionAction ToAction(string partitionKey) => Replacing is { } etag
        ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, ToEntity(partitionKey), etag)
        : new TableTransactionAction(TableTransactionActionType.Add, ToEntity(partitionKey));

    internal override ITableEntity ToEntity(string partitionKey)
    {
        var json = JsonSerializer.Serialize(Ranges.Select(r => new Stored(r.FromNumber, r.Digest, [r.Counts.Total, r.Counts.Delivered, r.Counts.NotDelivered, r.Counts.Waiting, r.Counts.Unknown, r.Counts.OptedOut ?? -1], r.Version.ToString())));
        var entity = new TableEntity(partitionKey, Row) { ["RecipientsVersion"] = RecipientsVersion };
        SplitText.Write(entity, json);
        return entity;
    }

    /// <summary>
    /// The row a refresh leaves before it writes any recipient: no layout, when it was forgotten (the refresh's own time,
    /// which its summary repeats once it commits), and since when earlier writers it could not rule out may be writing.
    /// </summary>
    internal static TableEntity Tombstone(string partitionKey, DateTimeOffset forgottenAt, DateTimeOffset? unsettledSince) =>
        new(partitionKey, Row) { [ForgottenAtProperty] = forgottenAt, [UnsettledSinceProperty] = unsettledSince };

    internal static StoredRangeLayout RowOf(TableEntity entity) =>
        new(FromEntity(entity), entity.ETag, entity.GetDateTimeOffset(ForgottenAtProperty), entity.GetDateTimeOffset(UnsettledSinceProperty));

    private const string ForgottenAtProperty = "ForgottenAt";
    private const string UnsettledSinceProperty = "UnsettledSince";

    internal static RangeLayout? FromEntity(TableEntity entity)
    {
        var json = SplitText.Read(entity);
        if (entity.GetString("RecipientsVersion") is not { } version || json.Length == 0)
        {
            return null;
        }

        var ranges = JsonSerializer.Deserialize<List<Stored>>(json) ?? [];
        return new RangeLayout(version, [.. ranges.Select(r => new RangeState(r.F, r.D, new TagCounts(r.C[0], r.C[1], r.C[2], r.C[3], r.C[4], r.C.Length > 5 && r.C[5] >= 0 ? r.C[5] : null), Domain.RecipientsVersion.Parse(r.V)))]);
    }

    /// <summary>Short names: a 100,000-recipient tag is 50 of these.</summary>
    private sealed record Stored(string? F, string D, int[] C, string V);
}

/// <summary>The layout row as read: the layout, or a refresh's tombstone (null layout) with its two times; and its ETag.</summary>
public sealed record StoredRangeLayout(RangeLayout? Layout, ETag ETag, DateTimeOffset? ForgottenAt = null, DateTimeOffset? UnsettledSince = null);
