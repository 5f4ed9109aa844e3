using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace TagStatus.Core.Domain;

/// <summary>An SMS Partner campaign tag, valid by the provider's send rules: 1 to 20 characters, no spaces, lowercase.</summary>
public readonly record struct Tag
{
    public const int MaxLength = 20;

    private Tag(string value) => Value = value;

    public string Value { get; }

    public override string ToString() => Value;

    /// <summary>Checks the SMS Partner rules; <paramref name="error"/> names the rule that failed.</summary>
    public static bool TryParse(string? candidate, out Tag tag, [NotNullWhen(false)] out string? error)
    {
        tag = default;
        error = Validate(candidate);
        if (error is not null)
        {
            return false;
        }

        tag = new Tag(candidate!);
        return true;
    }

    public static Tag Parse(string candidate) =>
        TryParse(candidate, out var tag, out var error) ? tag : throw new ArgumentException(error, nameof(candidate));

    private static string? Validate(string? candidate)
    {
        if (string.IsNullOrEmpty(candidate))
        {
            return "A tag is required.";
        }

        if (candidate.Length > MaxLength)
        {
            return $"A tag has at most {MaxLength} characters; this one has {candidate.Length}.";
        }

        // Runes, not chars: an uppercase letter outside the basic plane is a surrogate pair.
        foreach (var rune in candidate.EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(rune))
            {
                return "A tag may not contain spaces.";
            }

            if (Rune.IsControl(rune) || rune == Rune.ReplacementChar)
            {
                return "A tag may not contain control characters.";
            }

            if (Rune.IsUpper(rune))
            {
                return "A tag is lowercase only.";
            }
        }

        return null;
    }
}
