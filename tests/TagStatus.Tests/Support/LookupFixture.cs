using System.Runtime.CompilerServices;
using Azure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;
using TagStatus.Core.Domain;
using TagStatus.Core.Lookup;
using TagStatus.Core.Queues;
using TagStatus.Core.Refresh;
using TagStatus.Core.SmsPartner;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;

namespace TagStatus.Tests.Support;

/// <summary>A saved refresh, as the store was asked to write it.</summary>
internal sealed record SavedRefresh(IReadOnlyList<RecipientWrite> Changed, TagSummary Summary, ETag? ExpectedETag);

/// <summary>
/// The real lookup service, refresher and state rules over a mocked store and SMS Partner client, on a fake clock.
/// </summary>
internal sealed class LookupFixture
{
    public static readonly Tag MonTag = Tag.Parse("montag");

    public LookupFixture()
    {
        Time = new FakeTimeProvider(Data.T0.AddHours(1));
        Rules = new TagStateRules(Options.Create(Tracking));
        Refresher = new TagRefresher(Client.Object, Store.Object, Rules, new NoTagChangeObserver(), Time, NullLogger<TagRefresher>.Instance);
        InlineRead = new InlineRead(Client.Object, Refresher, Passes.Object, Store.Object, Queue.Object, Options.Create(LookupOptions), Options.Create(Tracking), NullLogger<InlineRead>.Instance);
        Lookup = new TagLookupService(Store.Object, InlineRead, Queue.Object, Options.Create(LookupOptions), Options.Create(Tracking), Time, NullLogger<TagLookupService>.Instance);
        Store.Setup(s => s.TryClaimRefreshAsync(It.IsAny<Tag>(), It.IsAny<DateTimeOffset>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((Tag tag, DateTimeOffset _, DateTimeOffset until, CancellationToken _) => new RefreshClaim(tag, until, new ETag("claim")));
        Store.Setup(s => s.GetRecipientPageAsync(It.IsAny<Tag>(), It.IsAny<RecipientFilter?>(), It.IsAny<int>(), It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((Tag _, RecipientFilter? filter, int size, string? token, CancellationToken _) => InMemoryPaging.Page(Rows.Values, filter, size, token));

        Store.Setup(s => s.GetSummaryAsync(It.IsAny<Tag>(), It.IsAny<CancellationToken>())).ReturnsAsync((StoredSummary?)null);
        Store.Setup(s => s.HoldInFlightAsync(It.IsAny<Tag>(), It.IsAny<DateTimeOffset>(), It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((Tag tag, DateTimeOffset until, int pages, CancellationToken _) => new DueTag(tag, until, pages, Claimed: true));
        Store.Setup(s => s.GetRecipientsAsync(It.IsAny<Tag>(), It.IsAny<CancellationToken>())).ReturnsAsync([]);
        // A range reads what the whole-tag setup of a test holds, cut to the range: tests set up rows once, for any split.
        Store.Setup(s => s.ReadRecipientsAsync(It.IsAny<Tag>(), It.IsAny<RecipientRange>(), It.IsAny<CancellationToken>()))
            .Returns((Tag tag, RecipientRange range, CancellationToken ct) => RangeOf(tag, range, ct));
        Store.Setup(s => s.SaveRecipientsAsync(It.IsAny<Tag>(), It.IsAny<StoredSummary?>(), It.IsAny<DateTimeOffset>(), It.IsAny<IReadOnlyList<RecipientWrite>>(), It.IsAny<CancellationToken>()))
            .Callback((Tag _, StoredSummary? _, DateTimeOffset _, IReadOnlyList<RecipientWrite> changed, CancellationToken _) => PendingWrites.AddRange(changed))
            .ReturnsAsync((Tag _, StoredSummary? _, DateTimeOffset _, IReadOnlyList<RecipientWrite> changed, CancellationToken _) => changed.Count);
        Store.Setup(s => s.SaveRefreshAsync(
                It.IsAny<IReadOnlyList<RecipientWrite>>(), It.IsAny<TagSummary>(), It.IsAny<StoredSummary?>(), It.IsAny<IReadOnlyList<TagCompanionRow>>(), It.IsAny<CancellationToken>()))
            .Callback((IReadOnlyList<RecipientWrite> changed, TagSummary summary, StoredSummary? etag, IReadOnlyList<TagCompanionRow> _, CancellationToken _) =>
            {
                foreach (var write in Record(changed, summary, etag).Changed)
                {
                    var key = (write.Recipient.PhoneNumber, write.Recipient.Occurrence);
                    if (write.Delete)
                    {
                        Rows.Remove(key);
                    }
                    else
                    {
                        Rows[key] = write.Recipient;
                    }
                }
            })
            .ReturnsAsync((IReadOnlyList<RecipientWrite> changed, TagSummary _, StoredSummary? _, IReadOnlyList<TagCompanionRow> _, CancellationToken _) => changed.Count + 1);
    }

    public Mock<ITagStore> Store { get; } = new();

    public Mock<ISmsPartnerClient> Client { get; } = new();

    public Mock<IPassStore> Passes { get; } = new();

    public Mock<IWorkQueue> Queue { get; } = new();

    /// <summary>The read a lookup or a registration does while its caller waits.</summary>
    public InlineRead InlineRead { get; }

    /// <summary>No waiting for another lookup's read: the fake clock would never let it end.</summary>
    public LookupOptions LookupOptions { get; } = new() { WaitForRefreshSeconds = 0 };

    public FakeTimeProvider Time { get; }

    public TrackingOptions Tracking { get; } = new();

    public TagStateRules Rules { get; }

    public TagRefresher Refresher { get; }

    public TagLookupService Lookup { get; }

    public List<SavedRefresh> Saved { get; } = [];

    private async IAsyncEnumerable<StoredRecipient> RangeOf(Tag tag, RecipientRange range, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var row in InMemoryTagStore.InKeyOrder(await Store.Object.GetRecipientsAsync(tag, cancellationToken)).Where(r => range.Contains(r.Recipient.PhoneNumber)))
        {
            yield return row;
        }
    }

    /// <summary>Rows a refresh wrote range by range (<see cref="ITagStore.SaveRecipientsAsync"/>) ahead of its summary.</summary>
    public List<RecipientWrite> PendingWrites { get; } = [];

    /// <summary>A summary write, with the rows written ahead of it since the last one (and any it carried itself).</summary>
    public SavedRefresh Record(IReadOnlyList<RecipientWrite> changed, TagSummary summary, StoredSummary? replacing)
    {
        var saved = new SavedRefresh([.. PendingWrites, .. changed], summary, replacing?.ETag);
        PendingWrites.Clear();
        Saved.Add(saved);
        return saved;
    }

    /// <summary>The recipient rows as stored (and as saved since): what a page of the lookup shows.</summary>
    public Dictionary<(string Phone, int Occurrence), Recipient> Rows { get; } = [];

    public DateTimeOffset Now => Time.GetUtcNow();

    /// <summary>Puts a summary and its recipients in the store; counts follow the recipients unless given.</summary>
    public TagSummary Stored(TagState state, DateTimeOffset refreshedAt, IReadOnlyList<Recipient> recipients, bool tracked = false, TagCounts? counts = null, string etag = "summary-1")
    {
        var summary = new TagSummary(
            MonTag, state, counts ?? TagCounts.Of(recipients), tracked, Data.T0, refreshedAt,
            state == TagState.Complete ? Data.T0.AddMinutes(5) : null, null, UpstreamTotal: recipients.Count, RecipientsVersion: RecipientsVersions.Of(recipients));
        Store.Setup(s => s.GetSummaryAsync(MonTag, It.IsAny<CancellationToken>())).ReturnsAsync(new StoredSummary(summary, new ETag(etag)));
        Store.Setup(s => s.GetRecipientsAsync(MonTag, It.IsAny<CancellationToken>()))
            .ReturnsAsync(recipients.Select((r, i) => new StoredRecipient(r, new ETag($"row-{i}"))).ToList());
        Rows.Clear();
        foreach (var recipient in recipients)
        {
            Rows[(recipient.PhoneNumber, recipient.Occurrence)] = recipient;
        }

        return summary;
    }

    public void Upstream(params UpstreamRecipient[] rows) => Upstream(true, rows);

    public void Upstream(bool complete, params UpstreamRecipient[] rows) => Upstream(UpstreamPass.OnePage(rows, complete ? rows.Length : rows.Length + 1));

    /// <summary>SMS Partner answers this pass, read whole (the refresher) or up to a page limit (a lookup).</summary>
    public void Upstream(UpstreamPass answer)
    {
        Client.Setup(c => c.GetStatusesByTagAsync(MonTag, It.IsAny<CancellationToken>())).ReturnsAsync(answer);
        Client.Setup(c => c.ContinuePassAsync(MonTag, It.IsAny<UpstreamPass>(), It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .Callback((Tag _, UpstreamPass pass, int maxPages, CancellationToken _) =>
            {
                foreach (var page in answer.Pages.Skip(pass.PagesRead).Take(maxPages))
                {
                    pass.Add(page, answer.AnnouncedTotal);
                }

                if (pass.PagesRead == answer.PagesRead)
                {
                    pass.Finish(answer.End);
                }
            })
            .Returns(Task.CompletedTask);
    }

    public void UpstreamFails(Exception e)
    {
        Client.Setup(c => c.GetStatusesByTagAsync(MonTag, It.IsAny<CancellationToken>())).ThrowsAsync(e);
        Client.Setup(c => c.ContinuePassAsync(MonTag, It.IsAny<UpstreamPass>(), It.IsAny<int>(), It.IsAny<CancellationToken>())).ThrowsAsync(e);
    }

    /// <summary>One read of SMS Partner by a lookup (at most the inline pages of one pass).</summary>
    public void VerifyOneUpstreamRead() =>
        Client.Verify(c => c.ContinuePassAsync(MonTag, It.IsAny<UpstreamPass>(), It.IsAny<int>(), It.IsAny<CancellationToken>()), Times.Once);

    public void VerifyNoUpstreamCall()
    {
        Client.Verify(c => c.GetStatusesByTagAsync(It.IsAny<Tag>(), It.IsAny<CancellationToken>()), Times.Never);
        Client.Verify(c => c.ContinuePassAsync(It.IsAny<Tag>(), It.IsAny<UpstreamPass>(), It.IsAny<int>(), It.IsAny<CancellationToken>()), Times.Never);
    }
}
