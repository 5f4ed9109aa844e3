namespace TagStatus.Core.Domain;

/// <summary>Where a tag stands as a whole.</summary>
public enum TagState
{
    /// <summary>At least one recipient is waiting and the tracking window is open.</summary>
    Pending,

    /// <summary>No recipient is waiting.</summary>
    Complete,

    /// <summary>The window closed with recipients still waiting; no more refreshes.</summary>
    Expired,
}

public static class TagStates
{
    public static string ToApiName(this TagState state) => state switch
    {
        TagState.Pending => "pending",
        TagState.Complete => "complete",
        _ => "expired",
    };

    public static bool TryParseApiName(string? name, out TagState state)
    {
        foreach (var candidate in Enum.GetValues<TagState>())
        {
            if (string.Equals(candidate.ToApiName(), name, StringComparison.Ordinal))
            {
                state = candidate;
                return true;
            }
        }

        state = default;
        return false;
    }

    public static bool IsSettled(this TagState state) => state is TagState.Complete or TagState.Expired;
}
