using Microsoft.AspNetCore.Http;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

namespace TagStatus.Tests.Support;

/// <summary>
/// What a receiver does with the StandardWebhooks package, as the README's sample: the package's <c>Verify</c>
/// (1.1.2) compares only the first <c>v1,…</c> of <c>webhook-signature</c>, so during a rotation overlap, when there
/// are two, each is handed to it in turn. The timestamp tolerance (5 minutes) is the package's, on the real clock.
/// </summary>
internal static class StandardWebhooksReceiver
{
    /// <exception cref="WebhookVerificationException">No signature verifies with <paramref name="secret"/>, or the timestamp is out of tolerance.</exception>
    public static void Verify(string secret, string body, IHeaderDictionary headers)
    {
        var webhook = new StandardWebhook(secret);
        WebhookVerificationException? last = null;
        foreach (var signature in headers["webhook-signature"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var one = new HeaderDictionary(headers.ToDictionary(h => h.Key, h => h.Value)) { ["webhook-signature"] = signature };
            try
            {
                webhook.Verify(body, one);
                return;
            }
            catch (WebhookVerificationException e)
            {
                last = e;
            }
        }

        throw last ?? new WebhookVerificationException("Missing webhook-signature");
    }
}
