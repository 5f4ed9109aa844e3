using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace TagStatus.Core.Domain;

/// <summary>
/// The version of a tag's recipients: the sum (mod 2^128) of a hash of what a lookup shows of each row (number,
/// occurrence, status, STOP, status time). Equal recipients give equal versions whoever read them and in whatever
/// order, so an ETag built on it changes exactly when an answer could, and a tag merged range by range adds its
/// ranges' versions up (<see cref="RecipientsVersion"/>) without holding every row.
/// </summary>
public static class RecipientsVersions
{
    public static string Of(IEnumerable<Recipient> recipients)
    {
        var version = default(RecipientsVersion);
        foreach (var recipient in recipients)
        {
            version = version.With(recipient);
        }

        return version.ToString();
    }
}

/// <summary>A running <see cref="RecipientsVersions"/> sum: rows and ranges are added in any order.</summary>
public readonly record struct RecipientsVersion(UInt128 Sum)
{
    public RecipientsVersion With(Recipient recipient) => new(Sum + HashOf(recipient));

    public RecipientsVersion With(IEnumerable<Recipient> recipients)
    {
        var sum = Sum;
        foreach (var recipient in recipients)
        {
            sum += HashOf(recipient);
        }

        return new RecipientsVersion(sum);
    }

    public RecipientsVersion Plus(RecipientsVersion other) => new(Sum + other.Sum);

    public static RecipientsVersion Parse(string hex) => new(BinaryPrimitives.ReadUInt128BigEndian(Convert.FromHexString(hex)));

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, Sum);
        return Convert.ToHexStringLower(bytes);
    }

    private static UInt128 HashOf(Recipient recipient)
    {
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{recipient.PhoneNumber};{recipient.Occurrence};{(int)recipient.Status};{(recipient.StopSms ? '1' : '0')};{recipient.StatusAt?.ToUnixTimeSeconds()}\n");
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(line), hash);
        return BinaryPrimitives.ReadUInt128BigEndian(hash);
    }
}
