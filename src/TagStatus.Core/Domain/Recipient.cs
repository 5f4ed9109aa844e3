namespace TagStatus.Core.Domain;

/// <summary>
/// One message of a tag. <see cref="Occurrence"/> tells apart the same number sent to twice under one tag
/// (0 for the first time the number appears, 1 for the second…), so nothing is merged away.
/// </summary>
public sealed record Recipient(
    string PhoneNumber,
    int Occurrence,
    DeliveryStatus Status,
    string RawStatus,
    bool StopSms,
    DateTimeOffset? StatusAt);

/// <summary>How many recipients of a tag are in each status. Always covers the whole tag.</summary>
/// <param name="OptedOut">Recipients whose <c>stopSms</c> is true; null on summaries stored before it was counted.</param>
public sealed record TagCounts(int Total, int Delivered, int NotDelivered, int Waiting, int Unknown, int? OptedOut = null)
{
    public static TagCounts Empty { get; } = new(0, 0, 0, 0, 0);

    public static TagCounts Of(IEnumerable<Recipient> recipients)
    {
        int total = 0, delivered = 0, notDelivered = 0, waiting = 0, unknown = 0, optedOut = 0;
        foreach (var recipient in recipients)
        {
            total++;
            optedOut += recipient.StopSms ? 1 : 0;
            switch (recipient.Status)
            {
                case DeliveryStatus.Delivered: delivered++; break;
                case DeliveryStatus.NotDelivered: notDelivered++; break;
                case DeliveryStatus.Waiting: waiting++; break;
                default: unknown++; break;
            }
        }

        return new TagCounts(total, delivered, notDelivered, waiting, unknown, optedOut);
    }

    /// <summary>The same delivery statuses, whatever the opt-outs (which have their own event).</summary>
    public bool SameStatusesAs(TagCounts other) => this with { OptedOut = null } == other with { OptedOut = null };

    /// <summary>Delivered over total, or null when there is nothing to divide.</summary>
    public double? DeliveryRate => Total == 0 ? null : Math.Round((double)Delivered / Total, 4);
}
