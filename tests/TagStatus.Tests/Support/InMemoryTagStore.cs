using System.Collections.Concurrent;
using System.Globalization;
using Azure;
using TagStatus.Core.Domain;
using TagStatus.Core.Storage;

namespace TagStatus.Tests.Support;

/// <summary>
/// A store in memory that keeps the contract of <see cref="ITagStore"/> (ETag checks, rows before summary, the index
/// of tracked tags), so the real refresher, lookup and runner can be driven through many refreshes without Azurite.
/// </summary>
internal sealed class InMemoryTagStore : ITagStore
{
    private readonly ConcurrentDictionary<Tag, StoredSummary> _summaries = new();
    private readonly ConcurrentDictionary<Tag, StoredRangeLayout> _layouts = new();
    private readonly ConcurrentDictionary<Tag, Dictionary<(string Phone, int Occurrence), StoredRecipient>> _rows = new();
    private readonly Lock _gate = new();
    private readonly List<DueTag> _due = [];
    private readonly Dictionary<Tag, RefreshClaim> _claims = [];
    private DateTimeOffset? _sweptAt;
    private int _etags;

    public List<TagCompanionRow> Companions { get; } = [];

    public Task<StoredSummary?> GetSummaryAsync(Tag tag, CancellationToken cancellationToken) =>
        Task.FromResult(_summaries.TryGetValue(tag, out var stored) ? stored : null);

    public Task<IReadOnlyList<StoredRecipient>> GetRecipientsAsync(Tag tag, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            IReadOnlyList<StoredRecipient> rows = _rows.TryGetValue(tag, out var byKey) ? [.. byKey.Values] : [];
            return Task.FromResult(rows);
        }
    }

    public IAsyncEnumerable<StoredRecipient> ReadRecipientsAsync(Tag tag, RecipientRange range, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            RangeReads++;
            IReadOnlyList<StoredRecipient> rows = _rows.TryGetValue(tag, out var byKey) ? [.. byKey.Values.Where(r => range.Contains(r.Recipient.PhoneNumber))] : [];
            return InKeyOrder(rows).ToAsyncEnumerable();
        }
    }

    /// <summary>Rows as Table Storage returns them: by row key.</summary>
    public static IEnumerable<StoredRecipient> InKeyOrder(IEnumerable<StoredRecipient> rows) =>
        rows.OrderBy(r => TableKeys.ForRecipient(r.Recipient.PhoneNumber, r.Recipient.Occurrence), StringComparer.Ordinal);

    public Task<StoredRangeLayout?> GetRangeLayoutAsync(Tag tag, CancellationToken cancellationToken)
    {
        LayoutReads++;
        return Task.FromResult(_layouts.TryGetValue(tag, out var layout) ? layout : null);
    }

    public Task<ETag> ForgetRangeLayoutAsync(Tag tag, DateTimeOffset at, DateTimeOffset? unsettledSince, ETag? expected, DateTimeOffset? newTagFirstSeenAt, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            CheckLayout(tag, expected);
            var tombstone = new StoredRangeLayout(null, NextETag(), at, unsettledSince);
            _layouts[tag] = tombstone;
            return Task.FromResult(tombstone.ETag);
        }
    }

    /// <summary>Runs before each summary transaction is checked: a test's other writer acts there.</summary>
    public Func<Task>? BeforeSaveRefresh { get; set; }

    /// <summary>Queries of recipient rows by range, for tests of what an unchanged range costs.</summary>
    public int RangeReads { get; private set; }

    public int LayoutReads { get; private set; }

    public Task<int> SaveRecipientsAsync(Tag tag, StoredSummary? replacing, DateTimeOffset firstSeenAt, IReadOnlyList<RecipientWrite> changed, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var rows = _rows.GetOrAdd(tag, _ => []);
            foreach (var write in changed)
            {
                Apply(rows, write);
            }

            return Task.FromResult(changed.Count);
        }
    }

    public Task<RecipientPage> GetRecipientPageAsync(Tag tag, RecipientFilter? filter, int pageSize, string? continuationToken, CancellationToken cancellationToken) =>
        Task.FromResult(InMemoryPaging.Page(Recipients(tag), filter, pageSize, continuationToken));

    public Task<RefreshClaim?> TryClaimRefreshAsync(Tag tag, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_claims.TryGetValue(tag, out var held) && held.Until > now)
            {
                return Task.FromResult<RefreshClaim?>(null);
            }

            var claim = new RefreshClaim(tag, until, NextETag());
            _claims[tag] = claim;
            return Task.FromResult<RefreshClaim?>(claim);
        }
    }

    public Task ReleaseRefreshAsync(RefreshClaim claim, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_claims.TryGetValue(claim.Tag, out var held) && held.ETag == claim.ETag)
            {
                _claims.Remove(claim.Tag);
            }

            return Task.CompletedTask;
        }
    }

    public async Task<int> SaveRefreshAsync(
        IReadOnlyList<RecipientWrite> changed,
        TagSummary summary,
        StoredSummary? replacing,
        IReadOnlyList<TagCompanionRow> companions,
        CancellationToken cancellationToken)
    {
        if (BeforeSaveRefresh is { } before)
        {
            BeforeSaveRefresh = null;
            await before();
        }

        lock (_gate)
        {
            var layout = companions.OfType<RangeLayout>().LastOrDefault();
            if (layout is not null)
            {
                CheckLayout(summary.Tag, layout.Replacing);
            }

            var rows = _rows.GetOrAdd(summary.Tag, _ => []);
            foreach (var write in changed)
            {
                Apply(rows, write);
            }

            SaveSummary(summary, replacing?.ETag);
            Companions.AddRange(companions.Where(row => row is not RangeLayout));
            if (layout is not null)
            {
                _layouts[summary.Tag] = new StoredRangeLayout(layout with { Replacing = null }, NextETag());
            }

            return changed.Count + 1 + companions.Count;
        }
    }

    public Task SaveSummaryAsync(TagSummary summary, ETag? expectedETag, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            SaveSummary(summary, expectedETag);
            return Task.CompletedTask;
        }
    }

    public Task ReindexAsync(TagSummary summary, CancellationToken cancellationToken) => EnsureDueAsync(summary, cancellationToken);

    /// <summary>The schedule as <see cref="TableTagStore"/> keeps it: a row per due time, the new one before, the old one gone after.</summary>
    public Task<IReadOnlyList<DueTag>> GetDueTagsAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            IReadOnlyList<DueTag> due = [.. _due.Where(d => d.DueAt <= now).OrderBy(d => d.DueAt).ThenBy(d => d.Tag.Value, StringComparer.Ordinal).Take(max)];
            return Task.FromResult(due);
        }
    }

    public Task<DueTag?> ClaimDueAsync(DueTag due, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var row = _due.FirstOrDefault(d => d.Tag == due.Tag && d.DueAt == due.DueAt);
            if (row is null)
            {
                return Task.FromResult<DueTag?>(null);
            }

            _due.Remove(row);
            var claimed = row with { DueAt = leaseUntil > row.DueAt ? leaseUntil : row.DueAt.AddTicks(1), Claimed = true };
            _due.Add(claimed);
            return Task.FromResult<DueTag?>(claimed);
        }
    }

    public Task<IReadOnlyList<DueTag>> GetClaimsInFlightAsync(DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            IReadOnlyList<DueTag> claims = [.. _due.Where(d => d.Claimed && d.DueAt > now && d.DueAt <= until)];
            return Task.FromResult(claims);
        }
    }

    public Task<DueTag> HoldInFlightAsync(Tag tag, DateTimeOffset until, int pages, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var hold = new DueTag(tag, until, pages, Claimed: true);
            _due.RemoveAll(d => d.Tag == tag && d.DueAt == until);
            _due.Add(hold);
            return Task.FromResult(hold);
        }
    }

    public Task RemoveDueAsync(DueTag due, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _due.RemoveAll(d => d.Tag == due.Tag && d.DueAt == due.DueAt);
            return Task.CompletedTask;
        }
    }

    public Task EnsureDueAsync(TagSummary summary, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Schedule(summary, previous: null);
            return Task.CompletedTask;
        }
    }

    public Task<IReadOnlyList<TrackedListing>> GetTrackedSinceAsync(DateTimeOffset firstSeenAfter, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<TrackedListing>>([.. _summaries.Values.Select(s => s.Summary).Where(s => s.Tracked && s.FirstSeenAt > firstSeenAfter).Select(s => new TrackedListing(s, false))]);

    public Task<bool> TryClaimSweepAsync(DateTimeOffset now, TimeSpan every, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_sweptAt is { } last && now - last < every)
            {
                return Task.FromResult(false);
            }

            _sweptAt = now;
            return Task.FromResult(true);
        }
    }

    public Task<TrackedTagPage> ListTrackedAsync(TagState? state, int pageSize, string? continuationToken, CancellationToken cancellationToken) =>
        Task.FromResult(new TrackedTagPage(_summaries.Values.Select(s => s.Summary).Where(s => s.Tracked && (state is null || s.State == state)).Take(pageSize).ToList(), null));

    /// <summary>The recipients as stored now, in the order lookups list them.</summary>
    public IReadOnlyList<Recipient> Recipients(Tag tag)
    {
        lock (_gate)
        {
            return _rows.TryGetValue(tag, out var rows) ? [.. rows.Values.Select(r => r.Recipient).Order(RecipientOrder.Instance)] : [];
        }
    }

    public TagSummary? Summary(Tag tag) => _summaries.TryGetValue(tag, out var stored) ? stored.Summary : null;

    private void Apply(Dictionary<(string Phone, int Occurrence), StoredRecipient> rows, RecipientWrite write)
    {
        var key = (write.Recipient.PhoneNumber, write.Recipient.Occurrence);
        var exists = rows.TryGetValue(key, out var current);
        if (write.ExpectedETag is { } etag ? !exists || current!.ETag != etag : exists)
        {
            throw new StoreConflictException($"Row {key} changed meanwhile.");
        }

        if (write.Delete)
        {
            rows.Remove(key);
            return;
        }

        rows[key] = new StoredRecipient(write.Recipient, NextETag());
    }

    /// <summary>The layout row's write condition, as Table Storage checks it: the ETag read, or no row when none was.</summary>
    private void CheckLayout(Tag tag, ETag? expected)
    {
        var exists = _layouts.TryGetValue(tag, out var current);
        if (expected is { } etag ? !exists || current!.ETag != etag : exists)
        {
            throw new StoreConflictException($"The range layout of {tag} changed meanwhile.");
        }
    }

    private void SaveSummary(TagSummary summary, ETag? expected)
    {
        var exists = _summaries.TryGetValue(summary.Tag, out var current);
        if (expected is { } etag ? !exists || current!.ETag != etag : exists)
        {
            throw new StoreConflictException($"The summary of {summary.Tag} changed meanwhile.");
        }

        Schedule(summary, current?.Summary);
        _summaries[summary.Tag] = new StoredSummary(summary, NextETag());
    }

    private void Schedule(TagSummary summary, TagSummary? previous)
    {
        var at = TableTagStore.DueAtOf(summary);
        var old = TableTagStore.DueAtOf(previous);
        if (old is { } was && was != at)
        {
            _due.RemoveAll(d => d.Tag == summary.Tag && d.DueAt == was);
        }

        if (at is { } due && due != old)
        {
            _due.Add(new DueTag(summary.Tag, due, TableTagStore.EstimatePages(summary)));
        }
    }

    private ETag NextETag() => new(Interlocked.Increment(ref _etags).ToString(CultureInfo.InvariantCulture));
}
