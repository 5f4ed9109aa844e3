using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using TagStatus.Core.Domain;

namespace TagStatus.Api.Http;

/// <summary>Reads query values strictly: a present but unreadable value is an error that names the parameter and the rule.</summary>
public static class QueryReader
{
    public static bool TryInt(HttpRequest request, string name, int min, int max, int fallback, out int value, [NotNullWhen(false)] out string? error)
    {
        error = null;
        value = fallback;
        if (!request.Query.TryGetValue(name, out var raw) || raw.Count == 0)
        {
            return true;
        }

        if (raw.Count > 1 || !int.TryParse(raw[0], NumberStyles.None, CultureInfo.InvariantCulture, out value) || value < min || value > max)
        {
            error = $"'{name}' must be a whole number from {min} to {max}.";
            value = fallback;
            return false;
        }

        return true;
    }

    public static bool TryStatuses(HttpRequest request, out IReadOnlySet<DeliveryStatus>? statuses, [NotNullWhen(false)] out string? error)
    {
        statuses = null;
        error = null;
        if (!request.Query.TryGetValue("status", out var raw) || raw.Count == 0)
        {
            return true;
        }

        var set = new HashSet<DeliveryStatus>();
        foreach (var name in raw.SelectMany(v => (v ?? string.Empty).Split(',', StringSplitOptions.TrimEntries)))
        {
            if (!DeliveryStatuses.TryParseApiName(name, out var status))
            {
                error = $"'status' takes a comma-separated list of {string.Join(", ", DeliveryStatuses.All.Select(s => s.ToApiName()))}; '{Truncate(name)}' is not one.";
                return false;
            }

            set.Add(status);
        }

        statuses = set;
        return true;
    }

    /// <summary>true or false (any case), absent meaning null: any other value, or the parameter twice, is an error.</summary>
    public static bool TryBool(HttpRequest request, string name, out bool? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        if (!request.Query.TryGetValue(name, out var raw) || raw.Count == 0)
        {
            return true;
        }

        if (raw.Count > 1 || !bool.TryParse(raw[0], out var parsed))
        {
            error = $"'{name}' must be true or false.";
            return false;
        }

        value = parsed;
        return true;
    }

    public static bool TryTagState(HttpRequest request, out TagState? state, [NotNullWhen(false)] out string? error)
    {
        state = null;
        error = null;
        if (!request.Query.TryGetValue("state", out var raw) || raw.Count == 0)
        {
            return true;
        }

        if (raw.Count > 1 || !TagStates.TryParseApiName(raw[0], out var parsed))
        {
            error = "'state' must be one of pending, complete, expired.";
            return false;
        }

        state = parsed;
        return true;
    }

    /// <summary>An opaque value given back as it was received: absent is fine, present means exactly one non-empty value.</summary>
    public static bool TryOpaque(HttpRequest request, string name, out string? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        if (!request.Query.TryGetValue(name, out var raw) || raw.Count == 0)
        {
            return true;
        }

        if (raw.Count > 1 || string.IsNullOrEmpty(raw[0]))
        {
            error = $"'{name}' is given once, as the service wrote it in nextLink; start again without it.";
            return false;
        }

        value = raw[0];
        return true;
    }

    /// <summary>Echoes at most a short prefix of bad input back.</summary>
    public static string Truncate(string? value) => value is null ? string.Empty : value.Length <= 40 ? value : value[..40] + "…";

    /// <summary>The absolute URL of this request with some query values replaced; the function key is never copied into it.</summary>
    public static string Link(HttpRequest request, IReadOnlyDictionary<string, string?> replace)
    {
        var query = new List<KeyValuePair<string, string?>>();
        foreach (var (key, values) in request.Query)
        {
            if (replace.ContainsKey(key) || string.Equals(key, "code", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            query.AddRange(values.Select(v => new KeyValuePair<string, string?>(key, v)));
        }

        query.AddRange(replace.Where(p => p.Value is not null));
        return string.Concat(PublicUrl.Of(request).Base, request.Path.ToUriComponent(), QueryString.Create(query).ToUriComponent());
    }
}
