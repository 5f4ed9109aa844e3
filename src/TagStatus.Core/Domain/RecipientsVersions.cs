using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace TagStatus.Core.Domain;

/// <summary>
/// The version of a tag's recipients: a hash over what a lookup shows of each (number, occurrence, status, STOP,
/// status time), in number order. Equal recipients give equal versions whoever read them, so an ETag built on it
/// changes exactly when an answer could.
/// </summary>
public static class RecipientsVersions
{
    public static string Of(IEnumerable<Recipient> recipients)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var line = new StringBuilder();
        foreach (var recipient in recipients.Order(RecipientOrder.Instance))
        {
            line.Clear().Append(recipient.PhoneNumber).Append(';')
                .Append(recipient.Occurrence.ToString(CultureInfo.InvariantCulture)).Append(';')
                .Append(((int)recipient.Status).ToString(CultureInfo.InvariantCulture)).Append(';')
                .Append(recipient.StopSms ? '1' : '0').Append(';')
                .Append(recipient.StatusAt?.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)).Append('\n');
            hash.AppendData(Encoding.UTF8.GetBytes(line.ToString()));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset().AsSpan(0, 16));
    }
}
