using System.Globalization;
using TagStatus.Core.Domain;

namespace TagStatus.Benchmarks;

/// <summary>Deterministic recipient sets shaped like the simulator's generated tags (+336 and 8 digits, in number order).</summary>
internal static class Data
{
    public static readonly DateTimeOffset Sent = new(2025, 11, 1, 9, 0, 0, TimeSpan.Zero);

    public static string Phone(int i) => "+336" + (i + 1).ToString("D8", CultureInfo.InvariantCulture);

    /// <summary>Upstream rows: about 90 % Delivered, 10 % Not delivered, all final, each with its settle date.</summary>
    public static List<UpstreamRecipient> Upstream(int count)
    {
        var random = new Random(42);
        var rows = new List<UpstreamRecipient>(count);
        for (var i = 0; i < count; i++)
        {
            var status = random.NextDouble() < 0.1 ? "Not delivered" : "Delivered";
            rows.Add(new UpstreamRecipient(Phone(i), status, StopSms: false, Sent.AddSeconds(random.Next(10, 120))));
        }

        return rows;
    }

    /// <summary>What the store holds after merging <paramref name="upstream"/> into nothing: the steady state.</summary>
    public static List<Recipient> StoredFrom(IReadOnlyList<UpstreamRecipient> upstream) =>
        [.. RecipientMerge.Merge([], upstream).Recipients];

    /// <summary>Stored rows where every tenth recipient is still Waiting, so the upstream answer changes 10 % of them.</summary>
    public static List<Recipient> StoredWithTenPercentWaiting(IReadOnlyList<UpstreamRecipient> upstream)
    {
        var stored = StoredFrom(upstream);
        for (var i = 0; i < stored.Count; i += 10)
        {
            stored[i] = stored[i] with { Status = DeliveryStatus.Waiting, RawStatus = "Waiting", StatusAt = Sent };
        }

        return stored;
    }
}
