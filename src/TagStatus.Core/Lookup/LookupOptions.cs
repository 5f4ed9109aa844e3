using System.ComponentModel.DataAnnotations;

namespace TagStatus.Core.Lookup;

/// <summary>Section <c>Lookup</c>.</summary>
public sealed class LookupOptions
{
    public const string SectionName = "Lookup";

    /// <summary>Seconds a stored tag answers a lookup that gives no <c>maxAge</c>.</summary>
    [Range(0, 7 * 24 * 3600, ErrorMessage = "Lookup:DefaultMaxAge is in seconds, from 0 to 604800.")]
    public int DefaultMaxAge { get; set; } = 60;

    /// <summary>
    /// The most SMS Partner pages a lookup reads while its caller waits. A tag with more (by its stored size, or found
    /// on reading) is refreshed through the refresh queue instead, and the lookup answers from storage or with 202.
    /// </summary>
    [Range(1, 1000, ErrorMessage = "Lookup:MaxInlinePages is a number of pages, from 1 to 1000.")]
    public int MaxInlinePages { get; set; } = 10;

    /// <summary>Seconds one lookup's claim on a tag's upstream read holds before another may take it (it is given up as soon as the read ends).</summary>
    [Range(5, 3600, ErrorMessage = "Lookup:RefreshClaimSeconds is in seconds, from 5 to 3600.")]
    public int RefreshClaimSeconds { get; set; } = 60;

    /// <summary>Seconds a lookup of a tag with nothing stored waits for another lookup's read of it before it answers 202.</summary>
    [Range(0, 30, ErrorMessage = "Lookup:WaitForRefreshSeconds is in seconds, from 0 to 30.")]
    public int WaitForRefreshSeconds { get; set; } = 3;

    public TimeSpan RefreshClaim => TimeSpan.FromSeconds(RefreshClaimSeconds);

    public TimeSpan WaitForRefresh => TimeSpan.FromSeconds(WaitForRefreshSeconds);
}
