using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace TagStatus.Core.Storage;

/// <summary>
/// The continuation tokens of the tracked-tags listing and of a tag's recipient pages: the service's own opaque format, <c>v1.&lt;payload&gt;.&lt;check&gt;</c>
/// in base64url, wrapping where Table Storage's query resumes. The check (a truncated SHA-256 of the version and payload)
/// makes anything the service did not write (a typo, a cut-off URL, a raw Table Storage token) fail before a query runs.
/// It is a guard against mistakes, not a secret: a token only ever names a place in the caller's own listing.
/// </summary>
public static class ListContinuation
{
    private const string Version = "v1";
    private const int CheckBytes = 12;
    private const int MaxLength = 2048;

    public static string Write(string resumeAt)
    {
        var payload = Encoding.UTF8.GetBytes(resumeAt);
        return string.Concat(Version, ".", Base64Url.EncodeToString(payload), ".", Base64Url.EncodeToString(Check(payload)));
    }

    public static bool TryRead(string token, [NotNullWhen(true)] out string? resumeAt)
    {
        resumeAt = null;
        var parts = token.Length <= MaxLength ? token.Split('.') : [];
        if (parts.Length != 3 || parts[0] != Version || !TryDecode(parts[1], out var payload) || !TryDecode(parts[2], out var check))
        {
            return false;
        }

        if (!CryptographicOperations.FixedTimeEquals(check, Check(payload)) || payload.Length == 0)
        {
            return false;
        }

        resumeAt = Encoding.UTF8.GetString(payload);
        return true;
    }

    private static bool TryDecode(string text, [NotNullWhen(true)] out byte[]? bytes)
    {
        bytes = null;
        if (!Base64Url.IsValid(text))
        {
            return false;
        }

        bytes = Base64Url.DecodeFromChars(text);
        return true;
    }

    private static byte[] Check(byte[] payload)
    {
        var input = new byte[Version.Length + 1 + payload.Length];
        Encoding.ASCII.GetBytes(Version + "\n", input);
        payload.CopyTo(input, Version.Length + 1);
        return SHA256.HashData(input)[..CheckBytes];
    }
}
