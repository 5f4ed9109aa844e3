using TagStatus.Core.Domain;

namespace TagStatus.Tests.Domain;

/// <summary>
/// The production merge is a sort-merge tuned for the timer's hot path; this checks it against the plainest possible
/// merge (dictionaries, then a sort) on shuffled answers with repeated numbers and every kind of change.
/// </summary>
public sealed class RecipientMergeReferenceTests
{
    private static readonly string[] Statuses = ["Waiting", "Delivered", "Not delivered", "Queued"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Sort_merge_matches_the_reference_merge_on_random_answers(int seed)
    {
        var random = new Random(seed);
        var stored = RecipientMerge.Merge([], RandomAnswer(random, 300)).Recipients;
        var answer = RandomAnswer(random, 400);

        var actual = RecipientMerge.Merge(stored, answer);
        var expected = ReferenceMerge(stored, answer);

        Assert.Equal(expected.Recipients, actual.Recipients);
        Assert.Equal(expected.Changed.Order(RecipientOrder.Instance), actual.Changed);
        Assert.NotEmpty(actual.Changed);
    }

    private static List<UpstreamRecipient> RandomAnswer(Random random, int count) =>
        Enumerable.Range(0, count)
            .Select(_ => new UpstreamRecipient(
                $"+3360000{random.Next(0, 250):D4}",
                Statuses[random.Next(Statuses.Length)],
                random.Next(4) == 0,
                random.Next(3) == 0 ? null : DateTimeOffset.FromUnixTimeSeconds(1_700_000_000 + random.Next(1000))))
            .ToList();

    private static MergeResult ReferenceMerge(IReadOnlyList<Recipient> stored, IReadOnlyList<UpstreamRecipient> upstream)
    {
        var byKey = stored.ToDictionary(r => (r.PhoneNumber, r.Occurrence));
        var occurrences = new Dictionary<string, int>();
        var merged = new List<Recipient>();
        var changed = new List<Recipient>();
        foreach (var row in upstream)
        {
            occurrences.TryGetValue(row.PhoneNumber, out var occurrence);
            occurrences[row.PhoneNumber] = occurrence + 1;
            var fresh = new Recipient(row.PhoneNumber, occurrence, DeliveryStatuses.FromUpstream(row.RawStatus), row.RawStatus, row.StopSms, row.StatusAt);
            if (!byKey.Remove((row.PhoneNumber, occurrence), out var existing))
            {
                merged.Add(fresh);
                changed.Add(fresh);
                continue;
            }

            var next = existing.Status.IsFinal() && !fresh.Status.IsFinal() ? existing : fresh;
            merged.Add(next);
            if (next != existing)
            {
                changed.Add(next);
            }
        }

        merged.AddRange(byKey.Values);
        return new MergeResult(merged.Order(RecipientOrder.Instance).ToList(), changed);
    }
}
