using Azure;
using Azure.Data.Tables;
using TagStatus.Core.Domain;

namespace TagStatus.Core.Storage;

/// <summary>
/// What a lookup reads and claims: a page of recipients by the service's own continuation, and the claim that lets one
/// lookup at a time read a tag upstream.
/// </summary>
public sealed partial class TableTagStore
{
    /// <summary>Table Storage's most rows in one query response.</summary>
    private const int MaxPerQuery = 1000;

    public async Task<RecipientPage> GetRecipientPageAsync(Tag tag, RecipientFilter? filter, int pageSize, string? continuationToken, CancellationToken cancellationToken)
    {
        string? resumeAt = null;
        if (continuationToken is not null && !ListContinuation.TryRead(continuationToken, out resumeAt))
        {
            throw new ArgumentException("The continuation token is not one this service gave.", nameof(continuationToken));
        }

        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var (table, month) = await RecipientsTableOfAsync(tag, cancellationToken).ConfigureAwait(false);
        var size = Math.Clamp(pageSize, 1, MaxPerQuery);
        Page<RecipientEntity>? page;
        try
        {
            // One response of the service, as it is: a filtered page may come back short, and its token says where to go on.
            page = await QueryRecipients(table, tag, filter, size, cancellationToken).AsPages(resumeAt, size).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 400 && continuationToken is not null)
        {
            throw new ArgumentException("The continuation token is not one this service gave.", nameof(continuationToken), e);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // No table: the single table of earlier versions was retired, or the month's table is not made yet (no rows).
            return month is null ? throw new RecipientsExpiredException(tag.Value, month) : new RecipientPage([], null);
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw StorageFailures.Unavailable(e);
        }

        return page is null
            ? new RecipientPage([], null)
            : new RecipientPage([.. page.Values.Select(ToRecipient)], page.ContinuationToken is { } next ? ListContinuation.Write(next) : null);
    }

    public async Task<RefreshClaim?> TryClaimRefreshAsync(Tag tag, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken)
    {
        await _initializer.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var claim = new RefreshClaimEntity { PartitionKey = TableKeys.ForTag(tag), RefreshingUntil = until };
        try
        {
            var current = await _tags.GetEntityIfExistsAsync<RefreshClaimEntity>(claim.PartitionKey, claim.RowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
            Response written;
            if (!current.HasValue || current.Value is null)
            {
                written = await _tags.AddEntityAsync(claim, cancellationToken).ConfigureAwait(false);
            }
            else if (current.Value.RefreshingUntil > now)
            {
                return null;
            }
            else
            {
                // An expired claim (its holder died or gave up): taken over only if nobody else took it since it was read.
                written = await _tags.UpdateEntityAsync(claim, current.Value.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            }

            return new RefreshClaim(tag, until, written.Headers.ETag ?? ETag.All);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return null;
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw StorageFailures.Unavailable(e);
        }
    }

    public async Task ReleaseRefreshAsync(RefreshClaim claim, CancellationToken cancellationToken)
    {
        try
        {
            await _tags.DeleteEntityAsync(TableKeys.ForTag(claim.Tag), TableKeys.RefreshClaimRow, claim.ETag, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            // Gone, or expired and taken over: either way no longer this caller's to release.
        }
        catch (Exception e) when (StorageFailures.IsStorageFailure(e))
        {
            throw StorageFailures.Unavailable(e);
        }
    }

    /// <summary>
    /// The one query of recipient rows, for lookups and refreshes alike: one partition per tag in the table
    /// <see cref="RecipientsTableOfAsync"/> chose, filtered inside it on the row's own properties (status, stopSms):
    /// never a scan beyond the tag.
    /// </summary>
    private static AsyncPageable<RecipientEntity> QueryRecipients(TableClient table, Tag tag, RecipientFilter? recipients, int maxPerPage, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.ForTag(tag)}");
        if (recipients?.Statuses is { Count: > 0 } statuses)
        {
            var anyOf = string.Join(" or ", statuses.Order().Select(status => TableClient.CreateQueryFilter($"Status eq {status.ToApiName()}")));
            filter = $"{filter} and ({anyOf})";
        }

        if (recipients?.StopSms is { } stopSms)
        {
            filter = $"{filter} and {TableClient.CreateQueryFilter($"StopSms eq {stopSms}")}";
        }

        return table.QueryAsync<RecipientEntity>(filter, maxPerPage, cancellationToken: cancellationToken);
    }
}
