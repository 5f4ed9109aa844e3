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
}

public static class RecipientRanges
{
    /// <summary>
    /// Splits the numbers a pass shows into consecutive ranges of the store's key order, each of about
    /// <paramref name="rowsPerRange"/> rows (a number is never split). A tag of at most that many rows is one range,
    /// <see cref="RecipientRange.All"/>; a pass with no rows is that one range too, so stored rows are still merged.
    /// </summary>
    public static IReadOnlyList<PassRange> Split(IReadOnlyDictionary<string, IReadOnlyList<UpstreamRecipient>> seen, int rowsPerRange)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rowsPerRange, 1);
        var numbers = seen.Keys.ToArray();
        var keys = Array.ConvertAll(numbers, TableKeys.RecipientKeyPrefix);
        Array.Sort(keys, numbers, StringComparer.Ordinal);

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

        // The first range starts at the first key, the last ends after the last: stored numbers the pass no longer shows
        // fall in some range whatever their key.
        PassRange RangeOf(int from, int to) =>
            new(new RecipientRange(from == 0 ? null : numbers[from], to == numbers.Length ? null : numbers[to]), new ArraySegment<string>(numbers, from, to - from));
    }
}
