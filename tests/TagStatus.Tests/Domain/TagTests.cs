using TagStatus.Core.Domain;

namespace TagStatus.Tests.Domain;

public sealed class TagTests
{
    [Theory]
    [InlineData(null, "required")]
    [InlineData("", "required")]
    [InlineData("abcdefghijklmnopqrstu", "at most 20")]
    [InlineData("mon tag", "spaces")]
    [InlineData("montag\u00a0", "spaces")]
    [InlineData("MonTag", "lowercase")]
    [InlineData("montag\u00c9", "lowercase")]
    [InlineData("mon\u0001tag", "control")]
    [InlineData("montag\u007f", "control")]
    public void Tag_outside_the_send_rules_is_rejected_with_a_message_naming_the_rule(string? candidate, string rule)
    {
        var ok = Tag.TryParse(candidate, out var tag, out var error);

        Assert.False(ok);
        Assert.Equal(default, tag);
        Assert.NotNull(error);
        Assert.Contains(rule, error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Tag_too_long_message_says_how_long_it_is()
    {
        Tag.TryParse(new string('a', 21), out _, out var error);

        Assert.Contains("21", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("abcdefghijklmnopqrst")] // exactly 20
    [InlineData("a")]
    [InlineData("promo-2026_11.27!")]
    [InlineData("c@mp#1/2?x&y=z")]
    [InlineData("été-éàü-ß")]
    [InlineData("0123456789")]
    public void Tag_of_up_to_20_lowercase_characters_with_punctuation_digits_or_unicode_is_accepted(string candidate)
    {
        var ok = Tag.TryParse(candidate, out var tag, out var error);

        Assert.True(ok, error);
        Assert.Null(error);
        Assert.Equal(candidate, tag.Value);
        Assert.Equal(candidate, tag.ToString());
    }

    [Fact]
    public void Tag_Parse_throws_with_the_rule_for_a_bad_tag()
    {
        var e = Assert.Throws<ArgumentException>(() => Tag.Parse("UPPER"));

        Assert.Contains("lowercase", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Tag_with_an_uppercase_letter_outside_the_basic_plane_is_rejected()
    {
        // U+10400 DESERET CAPITAL LETTER LONG I
        var ok = Tag.TryParse("tag\U00010400", out _, out var error);

        Assert.False(ok);
        Assert.Contains("lowercase", error, StringComparison.OrdinalIgnoreCase);
    }
}
