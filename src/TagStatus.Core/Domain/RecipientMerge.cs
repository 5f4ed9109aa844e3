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
    public static MergeResult Merge(IReadOnlyList<Recipient> stored, IReadOnlyList<UpstreamRecipient> upstream)
    {
        var byKey = new Dictionary<(string Phone, int Occurrence), Recipient>(stored.Count);
        foreach (var recipient in stored)
        {
            byKey[(recipient.PhoneNumber, recipient.Occurrence)] = recipient;
        }

        var occurrences = new Dictionary<string, int>(upstream.Count, StringComparer.Ordinal);
        var merged = new List<Recipient>(Math.Max(stored.Count, upstream.Count));
        var changed = new List<Recipient>();

        foreach (var row in upstream)
        {
            occurrences.TryGetValue(row.PhoneNumber, out var occurrence);
            occurrences[row.PhoneNumber] = occurrence + 1;

            var fresh = new Recipient(row.PhoneNumber, occurrence, DeliveryStatuses.FromUpstream(row.RawStatus), row.RawStatus, row.StopSms, row.StatusAt);
            if (!byKey.Remove((row.PhoneNumber, occurrence), out var existing))
            {
                merged.Add(fresh);
                changed.Add(fresh);
                continue;
            }

            var next = existing.Status.IsFinal() && !fresh.Status.IsFinal() ? existing : fresh;
            merged.Add(next);
            if (next != existing)
            {
                changed.Add(next);
            }
        }

        merged.AddRange(byKey.Values);
        merged.Sort(RecipientOrder.Instance);
        return new MergeResult(merged, changed);
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
