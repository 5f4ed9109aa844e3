namespace TagStatus.Core.Domain;

/// <summary>The outcome of merging a pass into the stored recipients.</summary>
/// <param name="Recipients">Every recipient of the tag after the merge, ordered by number then occurrence.</param>
/// <param name="Changed">Only the recipients to write: new ones and ones whose stored values moved.</param>
/// <param name="Removed">Stored rows the pass proved were never messages (a waiting row read twice on shifted pages).</param>
public sealed record MergeResult(IReadOnlyList<Recipient> Recipients, IReadOnlyList<Recipient> Changed, IReadOnlyList<Recipient> Removed)
{
    /// <summary>True when the merge added a row the tag did not have.</summary>
    public bool Grew { get; init; }
}

/// <summary>
/// Merges what SMS Partner showed into the stored recipients. Per phone number, the rows are a multiset of statuses,
/// not positions: SMS Partner gives no message id and no stable order, so the n-th row of a number means nothing.
/// </summary>
/// <remarks>
/// Per number, with <c>stored</c> the rows kept and <c>seen</c> the rows the pass proves (<see cref="UpstreamPass.WitnessedByNumber"/>):
/// <list type="bullet">
/// <item>finals = max(stored finals, seen finals): the count of final rows never decreases, and a final row is never
/// turned back into a waiting one (it may be corrected to the other final status);</item>
/// <item>rows = max(seen, finals) after a full pass, which drops a waiting row that shifted pages made up, and
/// max(stored, seen, finals) after a partial one, which drops nothing;</item>
/// <item>the rows that are not final are the pass's own waiting and unknown rows, topped up from stored ones after a
/// partial pass.</item>
/// </list>
/// Stored rows keep their occurrence (their row key) where their content is unchanged, so an unchanged tag writes nothing.
/// </remarks>
public static class RecipientMerge
{
    /// <summary>Merges bare rows as one page with no total: a partial pass, which never drops a stored row.</summary>
    public static MergeResult Merge(IReadOnlyList<Recipient> stored, IReadOnlyList<UpstreamRecipient> upstream) =>
        Merge(stored, UpstreamPass.OnePage(upstream, announcedTotal: null));

    public static MergeResult Merge(IReadOnlyList<Recipient> stored, UpstreamPass pass) =>
        Merge(stored, pass.WitnessedByNumber(), pass.IsFull);

    /// <summary>
    /// Merges the rows a pass proves (<paramref name="seen"/>, per number: <see cref="UpstreamPass.WitnessedByNumber"/>, or
    /// the part of it for one range of numbers) into the stored rows of the same numbers. The rules are per number, so a
    /// tag merged range by range ends exactly as merged whole, provided each range gets every stored row of its numbers.
    /// </summary>
    public static MergeResult Merge(IReadOnlyList<Recipient> stored, IReadOnlyDictionary<string, IReadOnlyList<UpstreamRecipient>> seen, bool fullPass)
    {
        var mine = IsSorted(stored) ? stored : [.. stored.Order(RecipientOrder.Instance)];
        var seenNumbers = seen.Keys.ToArray();
        Array.Sort(seenNumbers, StringComparer.Ordinal);

        var merged = new List<Recipient>(Math.Max(stored.Count, seen.Count));
        var changed = new List<Recipient>();
        var removed = new List<Recipient>();
        var grew = false;
        int s = 0, u = 0;
        while (s < mine.Count || u < seenNumbers.Length)
        {
            // Walk the stored rows and the seen numbers together, one phone number at a time, in ordinal order.
            var phone = u == seenNumbers.Length || s < mine.Count && string.CompareOrdinal(mine[s].PhoneNumber, seenNumbers[u]) < 0
                ? mine[s].PhoneNumber
                : seenNumbers[u];
            var first = s;
            while (s < mine.Count && string.Equals(mine[s].PhoneNumber, phone, StringComparison.Ordinal))
            {
                s++;
            }

            IReadOnlyList<UpstreamRecipient> rows = [];
            if (u < seenNumbers.Length && string.Equals(seenNumbers[u], phone, StringComparison.Ordinal))
            {
                rows = seen[seenNumbers[u++]];
            }

            grew |= MergeNumber(phone, new Slice(mine, first, s - first), rows, fullPass, merged, changed, removed);
        }

        return new MergeResult(merged, changed, removed) { Grew = grew };
    }

    /// <summary>Merges one number's rows; true when it ends with more rows than it had.</summary>
    private static bool MergeNumber(string phone, Slice stored, IReadOnlyList<UpstreamRecipient> seen, bool fullPass, List<Recipient> merged, List<Recipient> changed, List<Recipient> removed)
    {
        if (stored.Count <= 1 && seen.Count <= 1)
        {
            return MergeSingle(phone, stored.Count == 1 ? stored[0] : null, seen.Count == 1 ? seen[0] : null, fullPass, merged, changed, removed);
        }

        var own = stored.ToList();
        var target = NumberTarget.Of(own, seen, fullPass);
        var start = merged.Count;
        Assign(phone, own, target, merged, changed, removed);
        merged.Sort(start, merged.Count - start, RecipientOrder.Instance);
        return target.Count > own.Count;
    }

    /// <summary>The common case, at most one row stored and one seen: the same rules, without building multisets.</summary>
    private static bool MergeSingle(string phone, Recipient? stored, UpstreamRecipient? seen, bool fullPass, List<Recipient> merged, List<Recipient> changed, List<Recipient> removed)
    {
        switch (stored, seen)
        {
            case (null, { } fresh):
                Write(new Recipient(phone, 0, fresh.Status, fresh.RawStatus, fresh.StopSms, fresh.StatusAt), merged, changed);
                return true;
            case ({ } kept, null):
                // A full pass that no longer shows a waiting row proves it was never a message; a final row stays.
                if (fullPass && !kept.Status.IsFinal())
                {
                    removed.Add(kept);
                }
                else
                {
                    merged.Add(kept);
                }

                return false;
            case ({ } kept, { } fresh) when SameAs(kept, fresh) || kept.Status.IsFinal() && !fresh.Status.IsFinal():
                merged.Add(kept);
                return false;
            case ({ } kept, { } fresh):
                Write(new Recipient(phone, kept.Occurrence, fresh.Status, fresh.RawStatus, fresh.StopSms, fresh.StatusAt), merged, changed);
                return false;
            default:
                return false;
        }
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

    /// <summary>A run of one number's stored rows, without copying them.</summary>
    private readonly record struct Slice(IReadOnlyList<Recipient> Rows, int Start, int Count)
    {
        public Recipient this[int index] => Rows[Start + index];

        public List<Recipient> ToList()
        {
            var list = new List<Recipient>(Count);
            for (var i = 0; i < Count; i++)
            {
                list.Add(this[i]);
            }

            return list;
        }
    }

    /// <summary>Gives each target row a slot: its own stored row when unchanged, else a stored row it may replace, else a new one.</summary>
    private static void Assign(string phone, List<Recipient> stored, List<UpstreamRecipient> target, List<Recipient> merged, List<Recipient> changed, List<Recipient> removed)
    {
        var free = stored.OrderBy(r => r.Occurrence).ToList();
        var used = new HashSet<int>();
        var pending = new List<UpstreamRecipient>(target.Count);

        // Unchanged rows stay where they are and cost nothing.
        foreach (var row in target)
        {
            var same = free.FindIndex(r => SameAs(r, row));
            if (same >= 0)
            {
                Keep(free[same], merged, used);
                free.RemoveAt(same);
            }
            else
            {
                pending.Add(row);
            }
        }

        // A final row first replaces a final one (a correction), then a waiting one (it went final); a waiting row
        // never replaces a final one.
        foreach (var row in pending.OrderBy(r => r.Status.IsFinal() ? 0 : 1).ToList())
        {
            var slot = row.Status.IsFinal()
                ? FirstIndex(free, r => r.Status.IsFinal(), r => !r.Status.IsFinal())
                : free.FindIndex(r => !r.Status.IsFinal());
            if (slot < 0)
            {
                continue;
            }

            Write(new Recipient(phone, free[slot].Occurrence, row.Status, row.RawStatus, row.StopSms, row.StatusAt), merged, changed, used);
            free.RemoveAt(slot);
            pending.Remove(row);
        }

        // New rows take the lowest occurrences no kept or removed row holds, so no row key is reused in one write.
        var taken = new HashSet<int>(used.Concat(free.Select(r => r.Occurrence)));
        var next = 0;
        foreach (var row in pending)
        {
            while (!taken.Add(next))
            {
                next++;
            }

            Write(new Recipient(phone, next, row.Status, row.RawStatus, row.StopSms, row.StatusAt), merged, changed, used);
        }

        if (free.Any(r => r.Status.IsFinal()))
        {
            throw new InvalidOperationException("A final row was about to be dropped; the merge keeps every final row.");
        }

        removed.AddRange(free);
    }

    private static void Keep(Recipient recipient, List<Recipient> merged, HashSet<int> used)
    {
        merged.Add(recipient);
        used.Add(recipient.Occurrence);
    }

    private static void Write(Recipient recipient, List<Recipient> merged, List<Recipient> changed, HashSet<int> used)
    {
        Keep(recipient, merged, used);
        changed.Add(recipient);
    }

    private static void Write(Recipient recipient, List<Recipient> merged, List<Recipient> changed)
    {
        merged.Add(recipient);
        changed.Add(recipient);
    }

    private static int FirstIndex(List<Recipient> rows, Predicate<Recipient> first, Predicate<Recipient> then)
    {
        var index = rows.FindIndex(first);
        return index >= 0 ? index : rows.FindIndex(then);
    }

    internal static bool SameAs(Recipient stored, UpstreamRecipient row) =>
        string.Equals(stored.RawStatus, row.RawStatus, StringComparison.Ordinal) && stored.StopSms == row.StopSms && stored.StatusAt == row.StatusAt;

    /// <summary>The multiset of rows one number ends with (see the remarks on <see cref="RecipientMerge"/>).</summary>
    private static class NumberTarget
    {
        public static List<UpstreamRecipient> Of(List<Recipient> stored, IReadOnlyList<UpstreamRecipient> seen, bool fullPass)
        {
            var storedFinals = stored.Where(r => r.Status.IsFinal()).Select(AsUpstream).ToList();
            var seenFinals = seen.Where(r => r.Status.IsFinal()).ToList();
            var finals = Finals(storedFinals, seenFinals);
            var rows = fullPass ? Math.Max(seen.Count, finals.Count) : Math.Max(Math.Max(stored.Count, seen.Count), finals.Count);

            var open = seen.Where(r => !r.Status.IsFinal()).Take(rows - finals.Count).ToList();
            if (open.Count < rows - finals.Count)
            {
                // Only after a partial pass: stored waiting rows it did not show are kept.
                var storedOpen = stored.Where(r => !r.Status.IsFinal()).OrderBy(r => r.Occurrence).Select(AsUpstream).ToList();
                foreach (var row in open)
                {
                    storedOpen.Remove(row);
                }

                open.AddRange(storedOpen.Take(rows - finals.Count - open.Count));
            }

            return [.. finals, .. open];
        }

        /// <summary>Every seen final, plus the stored finals no seen final accounts for (matched on the same row, then the same status, then any).</summary>
        private static List<UpstreamRecipient> Finals(List<UpstreamRecipient> stored, List<UpstreamRecipient> seen)
        {
            var unaccounted = new List<UpstreamRecipient>(stored);
            foreach (var row in seen)
            {
                var match = unaccounted.IndexOf(row);
                match = match >= 0 ? match : unaccounted.FindIndex(r => r.Status == row.Status);
                match = match >= 0 || unaccounted.Count == 0 ? match : 0;
                if (match >= 0)
                {
                    unaccounted.RemoveAt(match);
                }
            }

            return [.. seen, .. unaccounted];
        }

        private static UpstreamRecipient AsUpstream(Recipient r) => new(r.PhoneNumber, r.RawStatus, r.StopSms, r.StatusAt);
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
