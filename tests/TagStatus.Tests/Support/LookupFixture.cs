using Azure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;
using TagStatus.Core.Domain;
using TagStatus.Core.Lookup;
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
        Rules = new TagStateRules(Options.Create(new TrackingOptions()));
        Refresher = new TagRefresher(Client.Object, Store.Object, Rules, new NoTagChangeObserver(), Time, NullLogger<TagRefresher>.Instance);
        Lookup = new TagLookupService(Store.Object, Refresher, Time, NullLogger<TagLookupService>.Instance);

        Store.Setup(s => s.GetSummaryAsync(It.IsAny<Tag>(), It.IsAny<CancellationToken>())).ReturnsAsync((StoredSummary?)null);
        Store.Setup(s => s.GetRecipientsAsync(It.IsAny<Tag>(), It.IsAny<CancellationToken>())).ReturnsAsync([]);
        Store.Setup(s => s.SaveRefreshAsync(
                It.IsAny<IReadOnlyList<RecipientWrite>>(), It.IsAny<TagSummary>(), It.IsAny<StoredSummary?>(), It.IsAny<IReadOnlyList<TagCompanionRow>>(), It.IsAny<CancellationToken>()))
            .Callback((IReadOnlyList<RecipientWrite> changed, TagSummary summary, StoredSummary? etag, IReadOnlyList<TagCompanionRow> _, CancellationToken _) =>
                Saved.Add(new SavedRefresh(changed, summary, etag?.ETag)))
            .ReturnsAsync((IReadOnlyList<RecipientWrite> changed, TagSummary _, StoredSummary? _, IReadOnlyList<TagCompanionRow> _, CancellationToken _) => changed.Count + 1);
    }

    public Mock<ITagStore> Store { get; } = new();

    public Mock<ISmsPartnerClient> Client { get; } = new();

    public FakeTimeProvider Time { get; }

    public TagStateRules Rules { get; }

    public TagRefresher Refresher { get; }

    public TagLookupService Lookup { get; }

    public List<SavedRefresh> Saved { get; } = [];

    public DateTimeOffset Now => Time.GetUtcNow();

    /// <summary>Puts a summary and its recipients in the store; counts follow the recipients unless given.</summary>
    public TagSummary Stored(TagState state, DateTimeOffset refreshedAt, IReadOnlyList<Recipient> recipients, bool tracked = false, TagCounts? counts = null, string etag = "summary-1")
    {
        var summary = new TagSummary(
            MonTag, state, counts ?? TagCounts.Of(recipients), tracked, Data.T0, refreshedAt,
            state == TagState.Complete ? Data.T0.AddMinutes(5) : null, null, UpstreamTotal: recipients.Count);
        Store.Setup(s => s.GetSummaryAsync(MonTag, It.IsAny<CancellationToken>())).ReturnsAsync(new StoredSummary(summary, new ETag(etag)));
        Store.Setup(s => s.GetRecipientsAsync(MonTag, It.IsAny<CancellationToken>()))
            .ReturnsAsync(recipients.Select((r, i) => new StoredRecipient(r, new ETag($"row-{i}"))).ToList());
        return summary;
    }

    public void Upstream(params UpstreamRecipient[] rows) => Upstream(true, rows);

    public void Upstream(bool complete, params UpstreamRecipient[] rows) =>
        Client.Setup(c => c.GetStatusesByTagAsync(MonTag, It.IsAny<CancellationToken>()))
            .ReturnsAsync(UpstreamPass.OnePage(rows, complete ? rows.Length : rows.Length + 1));

    public void UpstreamFails(Exception e) =>
        Client.Setup(c => c.GetStatusesByTagAsync(MonTag, It.IsAny<CancellationToken>())).ThrowsAsync(e);

    public void VerifyNoUpstreamCall() =>
        Client.Verify(c => c.GetStatusesByTagAsync(It.IsAny<Tag>(), It.IsAny<CancellationToken>()), Times.Never);
}
