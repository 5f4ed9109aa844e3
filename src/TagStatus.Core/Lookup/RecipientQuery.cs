using TagStatus.Core.Domain;

namespace TagStatus.Core.Lookup;

/// <summary>Which recipients a caller wants to see: a status filter and a 1-based page.</summary>
public sealed record RecipientQuery(IReadOnlySet<DeliveryStatus>? Statuses, int Page, int PageSize)
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    public IEnumerable<Recipient> Filter(IEnumerable<Recipient> recipients) =>
        Statuses is null ? recipients : recipients.Where(r => Statuses.Contains(r.Status));

    /// <summary>The requested page of the filtered recipients, and whether another page follows.</summary>
    public (IReadOnlyList<Recipient> Items, bool HasMore) Apply(IReadOnlyList<Recipient> recipients)
    {
        var skip = (long)(Page - 1) * PageSize;
        var items = new List<Recipient>(Math.Min(PageSize, recipients.Count));
        var matched = 0L;
        foreach (var recipient in Filter(recipients))
        {
            if (matched++ < skip)
            {
                continue;
            }

            if (items.Count == PageSize)
            {
                return (items, true);
            }

            items.Add(recipient);
        }

        return (items, false);
    }
}
