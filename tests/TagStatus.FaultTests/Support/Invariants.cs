using SmsPartner.Simulator;
using TagStatus.Core.Domain;
using TagStatus.Core.Storage;

namespace TagStatus.FaultTests.Support;

/// <summary>What must hold after any fault: the checks every test of this project makes on what storage holds.</summary>
public static class Invariants
{
    /// <summary>Final rows per phone number: a count that may never go down (a final status is never undone).</summary>
    public static IReadOnlyDictionary<string, int> FinalsByPhone(IEnumerable<Recipient> rows) =>
        rows.GroupBy(r => r.PhoneNumber).ToDictionary(g => g.Key, g => g.Count(r => r.Status.IsFinal()), StringComparer.Ordinal);

    public static async Task<IReadOnlyList<Recipient>> RowsAsync(ITagStore store, Tag tag) =>
        [.. (await store.GetRecipientsAsync(tag, default)).Select(r => r.Recipient)];

    /// <summary>The summary's counts are exactly what its recipient rows say.</summary>
    public static async Task<TagSummary> AssertCountsEqualRowsAsync(ITagStore store, Tag tag)
    {
        var summary = (await store.GetSummaryAsync(tag, default))?.Summary ?? throw new Xunit.Sdk.XunitException($"{tag.Value}: no summary");
        var rows = await RowsAsync(store, tag);
        Assert.True(TagCounts.Of(rows) == summary.Counts, $"{tag.Value}: summary counts {summary.Counts} but rows say {TagCounts.Of(rows)}");
        return summary;
    }

    /// <summary>Every phone number known before is still there, with at least as many final rows.</summary>
    public static void AssertNothingLostNorUndone(string tag, IReadOnlyDictionary<string, int> finalsBefore, IEnumerable<Recipient> rowsAfter)
    {
        var after = FinalsByPhone(rowsAfter);
        foreach (var (phone, finals) in finalsBefore)
        {
            Assert.True(after.TryGetValue(phone, out var now), $"{tag}: {phone} was stored and is gone");
            Assert.True(now >= finals, $"{tag}: {phone} had {finals} final rows and now has {now}");
        }
    }

    /// <summary>Stored rows say exactly what the simulator says now (the truth), status by status.</summary>
    public static void AssertEqualsTruth(string tag, IReadOnlyList<StatusRow> truth, IEnumerable<Recipient> stored)
    {
        var expected = TagCounts.Of(truth.Select((row, i) => new Recipient(row.PhoneNumber, 0, DeliveryStatuses.FromUpstream(row.Status), row.Status, row.StopSms, null)));
        var actual = TagCounts.Of(stored);
        Assert.True(expected == actual, $"{tag}: stored {actual}, the simulator says {expected}");
    }
}
