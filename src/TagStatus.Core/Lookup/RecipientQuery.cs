using TagStatus.Core.Domain;
using TagStatus.Core.Storage;

namespace TagStatus.Core.Lookup;

/// <summary>
/// Which recipients a caller wants to see: a status filter, an opt-out filter, a page size, and where to resume (the
/// opaque token of the previous page's <c>nextLink</c>, null for the first page).
/// </summary>
public sealed record RecipientQuery(IReadOnlySet<DeliveryStatus>? Statuses, int PageSize, string? ContinuationToken = null, bool? StopSms = null)
{
    public RecipientFilter Filter => new(Statuses, StopSms);

    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;
}
