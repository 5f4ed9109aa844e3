using System.Security.Cryptography;
using System.Text;

namespace TagStatus.Core.Callbacks;

/// <summary><c>X-TagStatus-Signature: sha256=&lt;hex HMAC-SHA256 of the raw body&gt;</c>, as a receiver checks it.</summary>
public static class CallbackSignature
{
    public const string SignatureHeader = "X-TagStatus-Signature";
    public const string EventIdHeader = "X-TagStatus-Event-Id";

    public static string Sign(ReadOnlySpan<byte> body, string signingKey) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(signingKey), body));

    /// <summary>Constant-time comparison, so a forger learns nothing from timing.</summary>
    public static bool Verify(ReadOnlySpan<byte> body, string? header, string signingKey) =>
        header is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(body, signingKey)), Encoding.ASCII.GetBytes(header));
}
