using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using TagStatus.Core.Domain;

namespace TagStatus.Core.Storage;

/// <summary>
/// A run of a tag's recipient rows in the store's key order: the rows of every number whose key is at or after
/// <see cref="FromNumber"/>'s (none: from the first row) and before <see cref="ToNumber"/>'s (none: to the last row).
/// One partition-scoped RowKey-range query reads it. Ranges made by <see cref="RecipientRanges.Split"/> cover the whole
/// key space without overlap, so every stored row of a tag falls in exactly one of them, including numbers the pass no
/// longer shows.
/// </summary>
public sealed record RecipientRange(string? FromNumber, string? ToNumber)
{
    public static RecipientRange All { get; } = new(null, null);

    internal string? FromKey => FromNumber is null ? null : TableKeys.RecipientKeyPrefix(FromNumber);

    internal string? ToKey => ToNumber is null ? null : TableKeys.RecipientKeyPrefix(ToNumber);

    /// <summary>Whether the rows of <paramref name="phoneNumber"/> come before this range's end (rows are read in key order).</summary>
    public bool EndsAfter(string phoneNumber) => ToKey is null || string.CompareOrdinal(TableKeys.RecipientKeyPrefix(phoneNumber), ToKey) < 0;

    /// <summary>Whether the rows of <paramref name="phoneNumber"/> are in this range.</summary>
    public bool Contains(string phoneNumber)
    {
        var key = TableKeys.RecipientKeyPrefix(phoneNumber);
        return (FromKey is null || string.CompareOrdinal(key, FromKey) >= 0) && (ToKey is null || string.CompareOrdinal(key, ToKey) < 0);
    }
}

/// <summary>One range of a pass: the range of keys, and the numbers of the pass in it.</summary>
public sealed record PassRange(RecipientRange Range, ArraySegment<string> Numbers)
{
    /// <summary>The rows the pass proves for this range's numbers, out of the pass's whole <paramref name="seen"/>.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<UpstreamRecipient>> SeenIn(IReadOnlyDictionary<string, IReadOnlyList<UpstreamRecipient>> seen)
    {
        var part = new Dictionary<string, IReadOnlyList<UpstreamRecipient>>(Numbers.Count, StringComparer.Ordinal);
        foreach (var number in Numbers)
        {
            part.Add(number, seen[number]);
        }

        return part;
    }

    /// <summary>
    /// A digest of everything the merge of this range takes from the pass: its numbers' rows in order, and whether the pass
    /// was full. Equal digests over unchanged stored rows merge to the same rows.
    /// </summary>
    public string Digest(IReadOnlyDictionary<string, IReadOnlyList<UpstreamRecipient>> seen, bool fullPass)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(fullPass ? "full\n"u8 : "partial\n"u8);
        var line = new StringBuilder();
        foreach (var number in Numbers.Order(StringComparer.Ordinal))
        {
            foreach (var row in seen[number])
            {
                line.Clear().Append(number).Append(';').Append(row.RawStatus).Append(';').Append(row.StopSms ? '1' : '0').Append(';')
                    .Append(row.StatusAt?.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)).Append('\n');
                hash.AppendData(Encoding.UTF8.GetBytes(line.ToString()));
            }
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset().AsSpan(0, 16));
    }
}

public static class RecipientRanges
{
    /// <summary>
    /// Splits the numbers a pass shows into consecutive ranges of the store's key order, each of about
    /// <paramref name="rowsPerRange"/> rows (a number is never split). A tag of at most that many rows is one range,
    /// <see cref="RecipientRange.All"/>; a pass with no rows is that one range too, so stored rows are still merged.
    /// </summary>
    public static IReadOnlyList<PassRange> Split(IReadOnlyDictionary<string, IReadOnlyList<UpstreamRecipient>> seen, int rowsPerRange) =>
        Split(seen, rowsPerRange, RecipientRange.All);

    /// <summary>
    /// <see cref="Split(IReadOnlyDictionary{string, IReadOnlyList{UpstreamRecipient}}, int)"/> of the numbers within
    /// <paramref name="bounds"/> (a part of a big pass): the first range starts at its start, the last ends at its end.
    /// </summary>
    public static IReadOnlyList<PassRange> Split(IReadOnlyDictionary<string, IReadOnlyList<UpstreamRecipient>> seen, int rowsPerRange, RecipientRange bounds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rowsPerRange, 1);
        var (numbers, _) = InKeyOrder(seen);

        var ranges = new List<PassRange>();
        var start = 0;
        var rows = 0;
        for (var i = 0; i < numbers.Length; i++)
        {
            if (rows >= rowsPerRange)
            {
                ranges.Add(RangeOf(start, i));
                start = i;
                rows = 0;
            }

            rows += seen[numbers[i]].Count;
        }

        ranges.Add(RangeOf(start, numbers.Length));
        return ranges;

        // The first range starts where the bounds do (the first key), the last ends where they end (after the last): stored
        // numbers the pass no longer shows fall in some range whatever their key.
        PassRange RangeOf(int from, int to) =>
            new(new RecipientRange(from == 0 ? bounds.FromNumber : numbers[from], to == numbers.Length ? bounds.ToNumber : numbers[to]), new ArraySegment<string>(numbers, from, to - from));
    }

    /// <summary>
    /// The pass's numbers in the ranges of an earlier pass (<paramref name="fromNumbers"/>: each range's first number, null
    /// for the first), so ranges keep their bounds from pass to pass and an unchanged range can be recognised; null when
    /// a range would hold more than <paramref name="maxRowsPerRange"/> rows (the tag grew: split it afresh).
    /// </summary>
    public static IReadOnlyList<PassRange>? SplitAt(IReadOnlyDictionary<string, IReadOnlyList<UpstreamRecipient>> seen, IReadOnlyList<string?> fromNumbers, int maxRowsPerRange) =>
        SplitAt(seen, RecipientRange.All, fromNumbers, maxRowsPerRange);

    /// <summary>
    /// <see cref="SplitAt(IReadOnlyDictionary{string, IReadOnlyList{UpstreamRecipient}}, IReadOnlyList{string?}, int)"/> of
    /// the numbers within <paramref name="bounds"/>: the first of <paramref name="fromNumbers"/> is where the bounds start,
    /// and the last range ends where they end.
    /// </summary>
    public static IReadOnlyList<PassRange>? SplitAt(IReadOnlyDictionary<string, IReadOnlyList<UpstreamRecipient>> seen, RecipientRange bounds, IReadOnlyList<string?> fromNumbers, int maxRowsPerRange)
    {
        if (fromNumbers.Count == 0 || !string.Equals(fromNumbers[0], bounds.FromNumber, StringComparison.Ordinal) || fromNumbers.Skip(1).Any(n => n is null))
        {
            return null;
        }

        var (numbers, keys) = InKeyOrder(seen);
        var ranges = new List<PassRange>(fromNumbers.Count);
        var start = 0;
        for (var r = 0; r < fromNumbers.Count; r++)
        {
            var to = r + 1 < fromNumbers.Count ? fromNumbers[r + 1] : bounds.ToNumber;
            var toKey = to is null ? null : TableKeys.RecipientKeyPrefix(to);
            var end = start;
            var rows = 0;
            while (end < numbers.Length && (toKey is null || string.CompareOrdinal(keys[end], toKey) < 0))
            {
                rows += seen[numbers[end]].Count;
                end++;
            }

            if (rows > maxRowsPerRange)
            {
                return null;
            }

            ranges.Add(new PassRange(new RecipientRange(fromNumbers[r], to), new ArraySegment<string>(numbers, start, end - start)));
            start = end;
        }

        return ranges;
    }

    /// <summary>The pass's numbers sorted as their row keys sort, with those keys' prefixes.</summary>
    private static (string[] Numbers, string[] Keys) InKeyOrder(IReadOnlyDictionary<string, IReadOnlyList<UpstreamRecipient>> seen)
    {
        var numbers = seen.Keys.ToArray();
        var keys = Array.ConvertAll(numbers, TableKeys.RecipientKeyPrefix);
        Array.Sort(keys, numbers, StringComparer.Ordinal);
        return (numbers, keys);
    }
}
