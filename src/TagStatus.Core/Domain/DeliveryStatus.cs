namespace TagStatus.Core.Domain;

/// <summary>What became of one message. <see cref="Delivered"/> and <see cref="NotDelivered"/> are final.</summary>
public enum DeliveryStatus
{
    Waiting,
    Delivered,
    NotDelivered,
    Unknown,
}

public static class DeliveryStatuses
{
    public static IReadOnlyList<DeliveryStatus> All { get; } = Enum.GetValues<DeliveryStatus>();

    /// <summary>Maps the SMS Partner wording; anything else is <see cref="DeliveryStatus.Unknown"/> (the raw value is kept by the caller).</summary>
    public static DeliveryStatus FromUpstream(string? raw) => raw?.Trim() switch
    {
        "Delivered" => DeliveryStatus.Delivered,
        "Not delivered" => DeliveryStatus.NotDelivered,
        "Waiting" => DeliveryStatus.Waiting,
        _ => DeliveryStatus.Unknown,
    };

    /// <summary>
    /// The raw value, as one shared instance when it is exactly one of SMS Partner's wordings (string literals are
    /// interned), so rows parsed by the thousand do not each hold a copy.
    /// </summary>
    public static string Shared(string raw) => raw switch
    {
        "Delivered" => "Delivered",
        "Not delivered" => "Not delivered",
        "Waiting" => "Waiting",
        _ => raw,
    };

    public static bool IsFinal(this DeliveryStatus status) =>
        status is DeliveryStatus.Delivered or DeliveryStatus.NotDelivered;

    /// <summary>The API's camelCase name: <c>delivered</c>, <c>notDelivered</c>, <c>waiting</c>, <c>unknown</c>.</summary>
    public static string ToApiName(this DeliveryStatus status) => status switch
    {
        DeliveryStatus.Delivered => "delivered",
        DeliveryStatus.NotDelivered => "notDelivered",
        DeliveryStatus.Waiting => "waiting",
        _ => "unknown",
    };

    public static bool TryParseApiName(string? name, out DeliveryStatus status)
    {
        foreach (var candidate in All)
        {
            if (string.Equals(candidate.ToApiName(), name, StringComparison.Ordinal))
            {
                status = candidate;
                return true;
            }
        }

        status = default;
        return false;
    }
}
