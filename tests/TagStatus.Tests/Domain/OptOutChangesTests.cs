using CsCheck;
using TagStatus.Core.Domain;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Domain;

public sealed class OptOutChangesTests
{
    [Fact]
    public void A_stored_row_whose_stopSms_turns_true_names_its_number()
    {
        IReadOnlyList<Recipient> stored = [Recipient("+33600000001", DeliveryStatus.Waiting), Recipient("+33600000002", DeliveryStatus.Waiting)];
        IReadOnlyList<Recipient> changed = [Recipient("+33600000002", DeliveryStatus.Delivered, stopSms: true)];

        var changes = OptOutChanges.Of(stored, changed);

        Assert.Equal(["+33600000002"], changes.Numbers);
        Assert.Equal(0, changes.StoredOptedOutRows);
    }

    [Fact]
    public void A_number_already_opted_out_is_not_named_again_even_on_another_row()
    {
        IReadOnlyList<Recipient> stored = [Recipient("+33600000001", DeliveryStatus.Waiting, stopSms: true)];
        IReadOnlyList<Recipient> changed =
        [
            Recipient("+33600000001", DeliveryStatus.Delivered, stopSms: true),
            Recipient("+33600000001", DeliveryStatus.Waiting, occurrence: 1, stopSms: true),
        ];

        var changes = OptOutChanges.Of(stored, changed);

        Assert.Empty(changes.Numbers);
        Assert.Equal(1, changes.StoredOptedOutRows);
    }

    [Fact]
    public void A_number_first_seen_opted_out_is_named_once_however_many_rows_it_has()
    {
        IReadOnlyList<Recipient> changed =
        [
            Recipient("+33600000009", DeliveryStatus.Delivered, stopSms: true),
            Recipient("+33600000009", DeliveryStatus.Delivered, occurrence: 1, stopSms: true),
        ];

        Assert.Equal(["+33600000009"], OptOutChanges.Of([], changed).Numbers);
    }

    [Fact]
    public void Opting_back_in_names_nothing()
    {
        IReadOnlyList<Recipient> stored = [Recipient("+33600000001", DeliveryStatus.Delivered, stopSms: true)];

        Assert.Empty(OptOutChanges.Of(stored, [Recipient("+33600000001", DeliveryStatus.Delivered)]).Numbers);
    }

    [Fact]
    public void Rows_left_by_an_interrupted_save_are_counted_against_the_summary()
    {
        // The rows say three opted out, the summary they were saved under counted one: two were never reported.
        var changes = new OptOutChanges([], StoredOptedOutRows: 3);

        Assert.Equal(2, changes.UnreportedSince(new TagCounts(5, 5, 0, 0, 0, OptedOut: 1)));
        Assert.Equal(0, changes.UnreportedSince(new TagCounts(5, 5, 0, 0, 0, OptedOut: 3)));
        Assert.Equal(0, changes.UnreportedSince(new TagCounts(5, 5, 0, 0, 0, OptedOut: 4)));
        Assert.Equal(0, changes.UnreportedSince(new TagCounts(5, 5, 0, 0, 0)));
    }

    private static readonly string[] Phones = [.. Enumerable.Range(0, 12).Select(i => $"+3360000{i:D4}")];

    private static readonly Gen<Recipient> RowGen =
        Gen.Select(Gen.Int[0, Phones.Length - 1], Gen.Int[0, 2], Gen.Bool)
            .Select((phone, occurrence, stopSms) => Recipient(Phones[phone], DeliveryStatus.Delivered, occurrence, stopSms));

    /// <summary>Unique rows by number and occurrence, as a store holds them.</summary>
    private static readonly Gen<Recipient[]> RowsGen =
        RowGen.Array[0, 20].Select(rows => rows.DistinctBy(r => (r.PhoneNumber, r.Occurrence)).ToArray());

    [Fact]
    public void Names_exactly_the_numbers_with_a_written_opt_out_and_no_stored_one()
    {
        Gen.Select(RowsGen, RowsGen).Sample((stored, changed) =>
        {
            var expected = changed.Where(c => c.StopSms).Select(c => c.PhoneNumber)
                .Where(n => !stored.Any(s => s.PhoneNumber == n && s.StopSms))
                .Distinct().Order(StringComparer.Ordinal);
            var changes = OptOutChanges.Of(stored, changed);
            return changes.Numbers.SequenceEqual(expected) && changes.StoredOptedOutRows == stored.Count(s => s.StopSms);
        }, iter: 2_000);
    }

    [Fact]
    public void Ranges_of_numbers_add_up_to_the_whole()
    {
        // The merge may run per range of numbers: split anywhere, the parts must sum to the whole.
        Gen.Select(RowsGen, RowsGen, Gen.Int[0, Phones.Length]).Sample((stored, changed, split) =>
        {
            bool Low(Recipient r) => string.CompareOrdinal(r.PhoneNumber, Phones[Math.Min(split, Phones.Length - 1)]) < 0 || split == Phones.Length;
            var parts = OptOutChanges.Of([.. stored.Where(Low)], [.. changed.Where(Low)])
                .Add(OptOutChanges.Of([.. stored.Where(r => !Low(r))], [.. changed.Where(r => !Low(r))]));
            var whole = OptOutChanges.Of(stored, changed);
            return parts.Numbers.SequenceEqual(whole.Numbers) && parts.StoredOptedOutRows == whole.StoredOptedOutRows;
        }, iter: 2_000);
    }
}
