using System.Globalization;
using Azure.Data.Tables;

namespace TagStatus.Core.Storage;

/// <summary>
/// Text longer than one Table property may hold (64 KiB: 32,000 UTF-16 characters, with room) kept in properties
/// <c>R0</c>, <c>R1</c>, ... of one entity: a stored page of 1,000 rows, a big tag's range layout.
/// </summary>
internal static class SplitText
{
    private const int MaxPropertyChars = 32_000;

    public static void Write(TableEntity entity, string text)
    {
        for (var part = 0; part * MaxPropertyChars < text.Length; part++)
        {
            entity[Property(part)] = text.Substring(part * MaxPropertyChars, Math.Min(MaxPropertyChars, text.Length - (part * MaxPropertyChars)));
        }
    }

    /// <summary>The text back; empty when the entity has none.</summary>
    public static string Read(TableEntity entity) =>
        // Concatenated at once (the array overload sizes the string first): the enumerable overload grows pooled buffers,
        // which the pool then keeps (~0.5 MB per core at pages of 1,000 rows).
        string.Concat(Enumerable.Range(0, int.MaxValue).Select(part => entity.GetString(Property(part))).TakeWhile(text => text is not null).ToArray());

    private static string Property(int part) => "R" + part.ToString(CultureInfo.InvariantCulture);
}
