using Azure;

namespace TagStatus.Core.Storage;

/// <summary>What counts as storage failing, in one place for every store.</summary>
internal static class StorageFailures
{
    /// <summary>Azure.Core throws an AggregateException when every retry of a call failed to connect.</summary>
    public static bool IsStorageFailure(Exception e) => e is RequestFailedException or AggregateException;

    public static StoreUnavailableException Unavailable(Exception e) => new(
        e is RequestFailedException failed
            ? $"Table Storage failed (HTTP {failed.Status}, {failed.ErrorCode ?? "no error code"})."
            : "Table Storage could not be reached.",
        e);

    /// <summary>Runs a storage call, turning its failures into <see cref="StoreUnavailableException"/>.</summary>
    public static async Task<T> Guard<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (IsStorageFailure(e))
        {
            throw Unavailable(e);
        }
    }

    public static Task Guard(Func<Task> call) => Guard(async () =>
    {
        await call().ConfigureAwait(false);
        return true;
    });

    /// <summary>A query whose page reads turn failures into <see cref="StoreUnavailableException"/>.</summary>
    public static async IAsyncEnumerable<T> Guarded<T>(AsyncPageable<T> source)
        where T : notnull
    {
        await using var enumerator = source.GetAsyncEnumerator();
        while (true)
        {
            try
            {
                if (!await enumerator.MoveNextAsync().ConfigureAwait(false))
                {
                    yield break;
                }
            }
            catch (Exception e) when (IsStorageFailure(e))
            {
                throw Unavailable(e);
            }

            yield return enumerator.Current;
        }
    }
}
