using System.Globalization;
using TagStatus.Core.Domain;
using TagStatus.Core.Storage;

namespace TagStatus.Tests.Support;

/// <summary>
/// Recipient pages over rows in memory, by the contract of <see cref="ITagStore.GetRecipientPageAsync"/>: the filter,
/// at most a page of rows in number order, and the service's own token (here wrapping an offset) while rows remain.
/// </summary>
internal static class InMemoryPaging
{
    public static RecipientPage Page(IEnumerable<Recipient> rows, RecipientFilter? filter, int pageSize, string? continuationToken)
    {
        var offset = 0;
        if (continuationToken is not null)
        {
            if (!ListContinuation.TryRead(continuationToken, out var resumeAt))
            {
                throw new ArgumentException("The continuation token is not one this service gave.", nameof(continuationToken));
            }

            offset = int.Parse(resumeAt, CultureInfo.InvariantCulture);
        }

        var matching = rows.Where(r => filter is null || filter.Matches(r)).Order(RecipientOrder.Instance).ToList();
        var page = matching.Skip(offset).Take(pageSize).ToList();
        var next = offset + page.Count;
        return new RecipientPage(page, next < matching.Count ? ListContinuation.Write(next.ToString(CultureInfo.InvariantCulture)) : null);
    }
}
