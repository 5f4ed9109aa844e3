using System.Globalization;
using CsCheck;
using TagStatus.Tests.Support;

namespace TagStatus.Tests.Properties;

/// <summary>One message as SMS Partner holds it: a number, when it was sent, and when its status moves.</summary>
/// <param name="SentAt">The refresh from which upstream lists it (0 = from the start; later = a new campaign under the same tag).</param>
/// <param name="UnknownAt">The tick from which it shows a status the API does not know ("Queued"), or null.</param>
/// <param name="FinalAt">The tick from which it is final, or null when its report never comes.</param>
internal sealed record Message(string Phone, int SentAt, int SentSecond, int? UnknownAt, int? FinalAt, bool Delivered)
{
    public const int TicksPerRefresh = 10;

    public bool IsFinalAt(int tick) => FinalAt <= tick;

    /// <summary>The row upstream shows at <paramref name="tick"/>.</summary>
    public string RowAt(int tick)
    {
        var (status, second) = FinalAt <= tick
            ? (Delivered ? "Delivered" : "Not delivered", 1_800_000_000 + (FinalAt.Value * 60))
            : UnknownAt <= tick ? ("Queued", 1_800_000_000 + SentSecond) : ("Waiting", 1_800_000_000 + SentSecond);
        return SmsPartnerBodies.Row(Phone, status, date: $"\"{second.ToString(CultureInfo.InvariantCulture)}\"");
    }
}

/// <summary>How upstream answers one refresh: the total or none, the page size, and whether its order moves under the pages.</summary>
/// <param name="Order">Seeds the order of the rows: one order for the whole pass, or a new one for every page when <paramref name="Shifting"/>.</param>
/// <param name="Advance">How long after the previous refresh this one runs.</param>
internal sealed record RefreshShape(bool AnnouncesTotal, int PageSize, bool Shifting, bool IgnoresPage, int Order, TimeSpan Advance);

/// <summary>A generated upstream history: messages (some numbers sent several times, some sent later) and one shape per refresh.</summary>
internal sealed record UpstreamHistory(IReadOnlyList<Message> Messages, IReadOnlyList<RefreshShape> Refreshes, bool ChangesMidPass)
{
    private static readonly string[] Phones = ["+33600000001", "+33600000002", "+33600000003", "+33600000004", "+33600000005"];

    public IEnumerable<Message> SentBy(int refresh) => Messages.Where(m => m.SentAt <= refresh);

    /// <summary>The tick a page of a refresh is read at: between refreshes only, or page by page when statuses move mid-pass.</summary>
    public int TickOf(int refresh, int page) => (refresh * Message.TicksPerRefresh) + (ChangesMidPass ? Math.Min(page, Message.TicksPerRefresh - 1) : 0);

    /// <summary>Page <paramref name="page"/> (1-based) of refresh <paramref name="refresh"/>, as SMS Partner's JSON.</summary>
    public string PageBody(int refresh, int page)
    {
        var shape = Refreshes[refresh];
        var tick = TickOf(refresh, page);
        var rows = MessagesOnPage(refresh, page).Select(m => m.RowAt(tick)).ToArray();
        var total = shape.AnnouncesTotal ? SentBy(refresh).Count().ToString(CultureInfo.InvariantCulture) : null;
        return SmsPartnerBodies.Page((shape.IgnoresPage ? 1 : page).ToString(CultureInfo.InvariantCulture), total, rows);
    }

    /// <summary>The messages on a page: a slice of the sent messages in this refresh's order (or this page's, when shifting).</summary>
    public IReadOnlyList<Message> MessagesOnPage(int refresh, int page)
    {
        var shape = Refreshes[refresh];
        var asked = shape.IgnoresPage ? 1 : page;
        var order = new Random(HashCode.Combine(shape.Order, shape.Shifting ? asked : 0));
        return SentBy(refresh).OrderBy(_ => order.Next()).Skip((asked - 1) * shape.PageSize).Take(shape.PageSize).ToList();
    }

    public static Gen<UpstreamHistory> Generator(bool changesMidPass) =>
        Gen.Select(MessagesGen(), RefreshGen().Array[1, 8], (messages, refreshes) => new UpstreamHistory(messages, refreshes, changesMidPass))
            .Where(h => h.SentBy(0).Any());

    private static Gen<Message[]> MessagesGen() =>
        // Fate: 0 unknown for a while then final, 1 unknown for good, 2 and 3 final at some point, 4 never reported.
        Gen.Select(Gen.Int[0, Phones.Length - 1], Gen.Int[0, 3], Gen.Int[0, 600], Gen.Int[0, 100], Gen.Int[0, 80], Gen.Int[0, 4], Gen.Bool)
            .Select((phone, sentAt, sentSecond, unknownAt, finalAt, fate, delivered) => new Message(
                Phones[phone],
                sentAt is 3 ? 1 + (finalAt % 5) : 0,
                sentSecond,
                fate is 0 or 1 ? unknownAt : null,
                fate is 1 or 4 ? null : finalAt,
                delivered))
            .Array[1, 12];

    private static Gen<RefreshShape> RefreshGen() =>
        Gen.Select(Gen.Int[0, 9], Gen.Int[1, 5], Gen.Int[0, 3], Gen.Int[0, 9], Gen.Int, Gen.Int[0, 4])
            .Select((total, pageSize, shifting, ignores, order, advance) => new RefreshShape(
                total > 1,
                pageSize,
                shifting == 0,
                ignores == 0,
                order,
                advance switch
                {
                    0 => TimeSpan.FromMinutes(1),
                    1 => TimeSpan.FromMinutes(7),
                    2 => TimeSpan.FromHours(2),
                    3 => TimeSpan.FromHours(7),
                    _ => TimeSpan.FromHours(30),
                }));
}
