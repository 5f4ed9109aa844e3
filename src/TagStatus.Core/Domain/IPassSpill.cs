namespace TagStatus.Core.Domain;

/// <summary>
/// Where a pass too big to hold keeps the rows it counts (<see cref="UpstreamPass.Counting"/>), to be read back a range of
/// numbers at a time.
/// </summary>
public interface IPassSpill : IDisposable
{
    /// <summary>Keeps the rows of page <paramref name="page"/> (pages are appended in order).</summary>
    void Append(int page, IReadOnlyList<UpstreamRecipient> rows);

    /// <summary>Every page appended so far, in order, one at a time; one reader at a time, none while appending.</summary>
    IEnumerable<(int Page, IReadOnlyList<UpstreamRecipient> Rows)> ReadBack();
}
