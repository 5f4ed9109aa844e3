using System.Security.Cryptography;
using System.Text;
using StandardWebhooks;

namespace TagStatus.Core.Callbacks;

/// <summary>
/// Standard Webhooks (standardwebhooks.com): <c>webhook-id</c>, <c>webhook-timestamp</c> and
/// <c>webhook-signature: v1,&lt;base64 HMAC-SHA256 of id.timestamp.body&gt;</c>, one <c>v1,…</c> per secret still valid.
/// </summary>
/// <remarks>
/// A subscription's secret is derived, not stored: HMAC-SHA256 of the subscription id and its secret generation, keyed
/// with the app's callback signing key (Key Vault <c>callback-signing-key</c>). Nothing in Table Storage can sign an
/// event, so read access to the tables (a backup, a support tool) cannot forge one; there is no second key to keep
/// for encrypting rows; and a rotation only bumps the generation stored with the subscription.
/// </remarks>
public static class WebhookSignature
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";
    public const string SecretPrefix = "whsec_";

    /// <summary>The <c>whsec_…</c> secret of one generation of a subscription's secret.</summary>
    public static string SecretOf(string signingKey, string subscriptionId, int generation) =>
        SecretPrefix + Convert.ToBase64String(HMACSHA256.HashData(
            Encoding.UTF8.GetBytes(signingKey),
            Encoding.UTF8.GetBytes($"tagstatus/webhook-secret/v1/{subscriptionId}/{generation}")));

    /// <summary>The <c>webhook-signature</c> value: space-separated <c>v1,…</c> signatures, one per secret.</summary>
    public static string Sign(string eventId, DateTimeOffset timestamp, ReadOnlySpan<byte> body, IEnumerable<string> secrets)
    {
        var payload = Encoding.UTF8.GetString(body);
        return string.Join(' ', secrets.Select(secret => new StandardWebhook(secret).Sign(eventId, timestamp, payload)));
    }
}

/// <summary>
/// Which generations of a subscription's secret sign its events: the current one, and the one before it until the
/// rotation's overlap ends, so a receiver that has not yet switched keeps verifying.
/// </summary>
public sealed record SecretGenerations(int Current, int? Previous, DateTimeOffset? PreviousValidUntil)
{
    public static SecretGenerations First { get; } = new(1, null, null);

    /// <summary>
    /// The previous generation first while it is valid: the StandardWebhooks package (1.1.2) checks only the first
    /// <c>v1,…</c> of the header, so a receiver that has not switched yet keeps verifying with the plain
    /// <c>Verify</c>; one that has switched checks each signature in turn (the README's sample does).
    /// </summary>
    public IEnumerable<int> ValidAt(DateTimeOffset now)
    {
        if (Previous is { } previous && PreviousValidUntil > now)
        {
            yield return previous;
        }

        yield return Current;
    }

    public SecretGenerations Rotate(DateTimeOffset previousValidUntil) => new(Current + 1, Current, previousValidUntil);
}
