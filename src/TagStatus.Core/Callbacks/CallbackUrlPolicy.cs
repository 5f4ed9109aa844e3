using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace TagStatus.Core.Callbacks;

/// <summary>
/// Where callbacks may go: <c>https</c> only, and never to loopback, link-local or private addresses, judged on the
/// addresses the host name resolves to, both when subscribing and again at every connection (DNS can change).
/// </summary>
public sealed class CallbackUrlPolicy(IOptions<CallbackOptions> options, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null)
{
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve = resolve ?? Dns.GetHostAddressesAsync;

    private bool AllowInsecure => options.Value.AllowInsecureUrls;

    /// <summary>Checks a subscriber's URL; <paramref name="error"/> says what is wrong with it.</summary>
    public async Task<(Uri? Url, string? Error)> CheckAsync(string? candidate, CancellationToken cancellationToken)
    {
        if (!TryCheckText(candidate, out var url, out var error))
        {
            return (null, error);
        }

        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(url.IdnHost, out var literal) ? [literal] : await _resolve(url.IdnHost, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ArgumentException)
        {
            return (null, $"'callbackUrl' host '{url.Host}' cannot be resolved.");
        }

        if (addresses.Length == 0 || !AllowInsecure && addresses.Any(a => !IsPublic(a)))
        {
            return (null, "'callbackUrl' may not point at loopback, link-local or private addresses.");
        }

        return (url, null);
    }

    public bool TryCheckText(string? candidate, [NotNullWhen(true)] out Uri? url, [NotNullWhen(false)] out string? error)
    {
        url = null;
        error = null;
        if (string.IsNullOrWhiteSpace(candidate) || candidate.Length > 2048 || !Uri.TryCreate(candidate, UriKind.Absolute, out var parsed))
        {
            error = "'callbackUrl' must be an absolute URL of at most 2048 characters.";
            return false;
        }

        if (parsed.Scheme != Uri.UriSchemeHttps && !(AllowInsecure && parsed.Scheme == Uri.UriSchemeHttp))
        {
            error = "'callbackUrl' must use https.";
            return false;
        }

        if (parsed.IdnHost.Length is 0 or > 253)
        {
            error = "'callbackUrl' needs a host name of at most 253 characters.";
            return false;
        }

        if (!string.IsNullOrEmpty(parsed.UserInfo))
        {
            error = "'callbackUrl' may not carry a user name or password.";
            return false;
        }

        url = parsed;
        return true;
    }

    /// <summary>The SocketsHttpHandler connect step: connects only to addresses the policy allows, whatever DNS says now.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await _resolve(host, cancellationToken).ConfigureAwait(false);
        var allowed = addresses.Where(a => AllowInsecure || IsPublic(a)).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException(HttpRequestError.ConnectionError, "The callback host resolves only to addresses callbacks may not reach.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>True for an address on the public internet.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast))
        {
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();

            // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address: judge that one.
            if (bytes[0] == 0x00 && bytes[1] == 0x64 && bytes[2] == 0xff && bytes[3] == 0x9b && bytes.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0)
            {
                return IsPublic(new IPAddress(bytes.AsSpan(12, 4)));
            }

            if (bytes[0] == 0x20 && bytes[1] == 0x02)
            {
                return IsPublic(new IPAddress(bytes.AsSpan(2, 4)));
            }

            return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || (bytes[0] & 0xFE) == 0xFC);
        }

        var b = address.GetAddressBytes();
        return !(b[0] == 10
            || b[0] == 0
            || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254)
            || (b[0] == 100 && b[1] >= 64 && b[1] <= 127)
            || b[0] >= 224);
    }
}
