using System.Buffers;

namespace TagStatus.Core.Domain;

/// <summary>A row as SMS Partner reported it, before it is matched to what is stored.</summary>
public sealed record UpstreamRecipient(string PhoneNumber, string RawStatus, bool StopSms, DateTimeOffset? StatusAt);

/// <summary>The outcome of merging a fresh answer into the stored recipients.</summary>
/// <param name="Recipients">Every recipient of the tag after the merge, ordered by number then occurrence.</param>
/// <param name="Changed">Only the recipients to write: new ones and ones whose stored values moved.</param>
public sealed record MergeResult(IReadOnlyList<Recipient> Recipients, IReadOnlyList<Recipient> Changed);

public static class RecipientMerge
{
    /// <summary>
    /// Merges an upstream answer into stored rows. A final status is never undone by a later non-final one;
    /// a stored recipient the answer does not mention is kept, so a short answer drops nothing.
    /// </summary>
    /// <remarks>
    /// A sort-merge, because the timer runs it on every refresh of every tag: upstream row indices (a pooled array)
    /// are sorted by number then arrival, which numbers each number's occurrences, and walked alongside the stored
    /// rows in <see cref="RecipientOrder"/>. An unchanged row is reused, not copied, and the result comes out sorted
    /// (bench/README.md has the numbers).
    /// </remarks>
    public static MergeResult Merge(IReadOnlyList<Recipient> stored, IReadOnlyList<UpstreamRecipient> upstream)
    {
        if (!IsSorted(stored))
        {
            var copy = stored.ToArray();
            Array.Sort(copy, RecipientOrder.Instance);
            stored = copy;
        }

        var count = upstream.Count;
        var order = ArrayPool<int>.Shared.Rent(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                order[i] = i;
            }

            Array.Sort(order, 0, count, new ArrivalOrder(upstream));

            var merged = new List<Recipient>(Math.Max(stored.Count, count));
            var changed = new List<Recipient>();
            var s = 0;
            string? phone = null;
            var occurrence = 0;
            for (var u = 0; u < count; u++)
            {
                var row = upstream[order[u]];
                occurrence = string.Equals(row.PhoneNumber, phone, StringComparison.Ordinal) ? occurrence + 1 : 0;
                phone = row.PhoneNumber;

                while (s < stored.Count && Compare(stored[s], phone, occurrence) < 0)
                {
                    merged.Add(stored[s++]);
                }

                if (s < stored.Count && Compare(stored[s], phone, occurrence) == 0)
                {
                    var existing = stored[s++];
                    var status = DeliveryStatuses.FromUpstream(row.RawStatus);
                    var keep = existing.Status.IsFinal() && !status.IsFinal()
                        || string.Equals(existing.RawStatus, row.RawStatus, StringComparison.Ordinal)
                            && existing.StopSms == row.StopSms && existing.StatusAt == row.StatusAt;
                    if (keep)
                    {
                        merged.Add(existing);
                        continue;
                    }

                    var next = new Recipient(phone, occurrence, status, row.RawStatus, row.StopSms, row.StatusAt);
                    merged.Add(next);
                    changed.Add(next);
                }
                else
                {
                    var fresh = new Recipient(phone, occurrence, DeliveryStatuses.FromUpstream(row.RawStatus), row.RawStatus, row.StopSms, row.StatusAt);
                    merged.Add(fresh);
                    changed.Add(fresh);
                }
            }

            while (s < stored.Count)
            {
                merged.Add(stored[s++]);
            }

            return new MergeResult(merged, changed);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(order);
        }
    }

    private static int Compare(Recipient stored, string phone, int occurrence)
    {
        var byNumber = string.CompareOrdinal(stored.PhoneNumber, phone);
        return byNumber != 0 ? byNumber : stored.Occurrence.CompareTo(occurrence);
    }

    private static bool IsSorted(IReadOnlyList<Recipient> rows)
    {
        for (var i = 1; i < rows.Count; i++)
        {
            if (RecipientOrder.Instance.Compare(rows[i - 1], rows[i]) >= 0)
            {
                return false;
            }
        }

        return true;
    }

    private sealed class ArrivalOrder(IReadOnlyList<UpstreamRecipient> rows) : IComparer<int>
    {
        public int Compare(int x, int y)
        {
            var byNumber = string.CompareOrdinal(rows[x].PhoneNumber, rows[y].PhoneNumber);
            return byNumber != 0 ? byNumber : x.CompareTo(y);
        }
    }
}

/// <summary>The one order recipients are listed in, whether read live or from the store, so pages are stable.</summary>
public sealed class RecipientOrder : IComparer<Recipient>
{
    public static RecipientOrder Instance { get; } = new();

    public int Compare(Recipient? x, Recipient? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null)
        {
            return -1;
        }

        if (y is null)
        {
            return 1;
        }

        var byNumber = string.CompareOrdinal(x.PhoneNumber, y.PhoneNumber);
        return byNumber != 0 ? byNumber : x.Occurrence.CompareTo(y.Occurrence);
    }
}
