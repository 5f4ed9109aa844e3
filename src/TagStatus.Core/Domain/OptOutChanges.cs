namespace TagStatus.Core.Domain;

/// <summary>
/// What a merge of one range of numbers did to opt-outs (<c>stopSms</c>), for the <c>recipient.optedOut</c> event.
/// Ranges are disjoint sets of numbers, so the results of several ranges add up (<see cref="Add"/>).
/// </summary>
/// <param name="Numbers">Numbers that opted out in this merge, in ordinal order: none of their stored rows had
/// <c>stopSms</c>, and a written row has it. A number the tag had never stored counts too (it is new to the reader).</param>
/// <param name="StoredOptedOutRows">Stored rows (as read before the merge) that already had <c>stopSms</c>: compared with the
/// summary's count, it tells rows an interrupted save wrote whose opt-outs no event has reported yet.</param>
public sealed record OptOutChanges(IReadOnlyList<string> Numbers, int StoredOptedOutRows)
{
    public static OptOutChanges None { get; } = new([], 0);

    /// <summary>Compares one range's stored rows with the rows its merge writes (new and changed rows; deletions never opt out).</summary>
    public static OptOutChanges Of(IReadOnlyList<Recipient> stored, IReadOnlyList<Recipient> changed)
    {
        var storedOptedOut = 0;
        var alreadyOptedOut = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in stored)
        {
            if (row.StopSms)
            {
                storedOptedOut++;
                alreadyOptedOut.Add(row.PhoneNumber);
            }
        }

        var numbers = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var row in changed)
        {
            if (row.StopSms && !alreadyOptedOut.Contains(row.PhoneNumber))
            {
                numbers.Add(row.PhoneNumber);
            }
        }

        return new OptOutChanges([.. numbers], storedOptedOut);
    }

    /// <summary>The changes of two disjoint ranges of numbers, as one.</summary>
    public OptOutChanges Add(OptOutChanges other) =>
        new([.. Numbers.Concat(other.Numbers).Order(StringComparer.Ordinal)], StoredOptedOutRows + other.StoredOptedOutRows);

    /// <summary>
    /// Opted-out rows that no event reported: the stored rows had more than the summary they were saved under counted
    /// (a save wrote its rows, then failed before its summary and event). Zero when the summary predates the count.
    /// </summary>
    public int UnreportedSince(TagCounts reported) =>
        reported.OptedOut is { } counted ? Math.Max(0, StoredOptedOutRows - counted) : 0;
}
