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
}
