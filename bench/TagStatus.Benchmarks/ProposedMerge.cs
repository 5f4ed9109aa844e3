using System.Buffers;
using TagStatus.Core.Domain;

namespace TagStatus.Benchmarks;

/// <summary>
/// NOT production code: a sketch of the fix proposed for <see cref="RecipientMerge.Merge"/> (see bench/README.md),
/// kept here only so its cost can be measured next to the real one. Same result for stored rows with unique
/// (number, occurrence) keys, except that <c>Changed</c> comes in recipient order rather than arrival order;
/// <see cref="MergeBenchmarks"/> checks that in setup.
/// <para>
/// Instead of two hash maps (both on the large object heap at 10,000 rows, hence gen-2 collections) and a fresh
/// <see cref="Recipient"/> per row, it sorts upstream row indices (a pooled array) by (number, arrival), which gives
/// each row its occurrence, and walks them alongside the stored rows, already in <see cref="RecipientOrder"/>.
/// The output comes out sorted, and a <see cref="Recipient"/> is only allocated for a row that changed.
/// </para>
/// </summary>
internal static class ProposedMerge
{
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
