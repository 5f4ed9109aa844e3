using System.ComponentModel.DataAnnotations;

namespace TagStatus.Core.Lookup;

/// <summary>Section <c>Lookup</c>.</summary>
public sealed class LookupOptions
{
    public const string SectionName = "Lookup";

    /// <summary>Seconds a stored tag answers a lookup that gives no <c>maxAge</c>.</summary>
    [Range(0, 7 * 24 * 3600, ErrorMessage = "Lookup:DefaultMaxAge is in seconds, from 0 to 604800.")]
    public int DefaultMaxAge { get; set; } = 60;
}
