using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using TagStatus.Core.Callbacks;

namespace TagStatus.Tests.Callbacks;

public sealed class CallbackUrlPolicyTests
{
    private readonly List<string> _resolved = [];

    /// <summary>A policy whose DNS answers from <paramref name="dns"/>; a host not in it fails as DNS would.</summary>
    private CallbackUrlPolicy Policy(bool allowInsecure = false, params (string Host, string[] Addresses)[] dns)
    {
        var table = dns.ToDictionary(d => d.Host, d => d.Addresses.Select(IPAddress.Parse).ToArray(), StringComparer.OrdinalIgnoreCase);
        return new CallbackUrlPolicy(
            Options.Create(new CallbackOptions { AllowInsecureUrls = allowInsecure }),
            (host, _) =>
            {
                _resolved.Add(host);
                return table.TryGetValue(host, out var addresses)
                    ? Task.FromResult(addresses)
                    : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
            });
    }

    private static readonly (string, string[]) PublicHost = ("hooks.example.com", ["93.184.216.34"]);

    [Fact]
    public async Task An_https_url_of_a_public_host_is_accepted()
    {
        var (url, error) = await Policy(dns: PublicHost).CheckAsync("https://hooks.example.com/callback?sig=abc", default);

        Assert.Null(error);
        Assert.Equal(new Uri("https://hooks.example.com/callback?sig=abc"), url);
        Assert.Equal(["hooks.example.com"], _resolved);
    }

    [Fact]
    public async Task A_plain_http_url_is_refused_and_the_error_names_callbackUrl()
    {
        var (url, error) = await Policy(dns: PublicHost).CheckAsync("http://hooks.example.com/callback", default);

        Assert.Null(url);
        Assert.Contains("'callbackUrl'", error);
        Assert.Contains("https", error);
        Assert.Empty(_resolved);
    }

    [Fact]
    public async Task Plain_http_and_loopback_are_allowed_when_insecure_urls_are_allowed()
    {
        var (url, error) = await Policy(allowInsecure: true, dns: ("localhost", ["127.0.0.1"])).CheckAsync("http://localhost:7071/hook", default);

        Assert.Null(error);
        Assert.NotNull(url);
    }

    [Theory]
    [InlineData("ftp://hooks.example.com/callback")]
    [InlineData("file:///etc/passwd")]
    [InlineData("ws://hooks.example.com/callback")]
    public async Task Schemes_other_than_https_are_refused(string candidate)
    {
        var (url, error) = await Policy(allowInsecure: true, dns: PublicHost).CheckAsync(candidate, default);

        Assert.Null(url);
        Assert.Contains("https", error);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("hooks.example.com/callback")]
    [InlineData("/callback")]
    public async Task A_missing_or_relative_url_is_refused(string? candidate)
    {
        var (url, error) = await Policy(dns: PublicHost).CheckAsync(candidate, default);

        Assert.Null(url);
        Assert.Contains("'callbackUrl'", error);
    }

    [Fact]
    public async Task A_url_longer_than_2048_characters_is_refused()
    {
        var candidate = "https://hooks.example.com/" + new string('a', 2048);

        var (url, error) = await Policy(dns: PublicHost).CheckAsync(candidate, default);

        Assert.Null(url);
        Assert.Contains("2048", error);
    }

    [Fact]
    public async Task A_url_with_credentials_is_refused()
    {
        var (url, error) = await Policy(dns: PublicHost).CheckAsync("https://user:pass@hooks.example.com/callback", default);

        Assert.Null(url);
        Assert.Contains("user name or password", error);
    }

    [Fact]
    public async Task A_host_that_does_not_resolve_is_refused_naming_the_host()
    {
        var (url, error) = await Policy(dns: PublicHost).CheckAsync("https://nowhere.example.org/callback", default);

        Assert.Null(url);
        Assert.Contains("nowhere.example.org", error);
        Assert.Contains("cannot be resolved", error);
    }

    [Fact]
    public async Task A_host_that_resolves_to_no_address_is_refused()
    {
        var (url, error) = await Policy(dns: ("empty.example.com", [])).CheckAsync("https://empty.example.com/callback", default);

        Assert.Null(url);
        Assert.NotNull(error);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.20.0.1")]
    [InlineData("192.168.1.10")]
    [InlineData("169.254.169.254")]
    [InlineData("100.100.1.1")]
    [InlineData("::1")]
    [InlineData("fd00::1")]
    [InlineData("fe80::1")]
    public async Task A_host_resolving_to_a_private_address_is_refused(string address)
    {
        var (url, error) = await Policy(dns: ("sneaky.example.com", [address])).CheckAsync("https://sneaky.example.com/callback", default);

        Assert.Null(url);
        Assert.Contains("loopback, link-local or private", error);
    }

    [Fact]
    public async Task A_host_with_one_private_address_among_public_ones_is_refused()
    {
        var (url, error) = await Policy(dns: ("mixed.example.com", ["93.184.216.34", "10.0.0.5"])).CheckAsync("https://mixed.example.com/callback", default);

        Assert.Null(url);
        Assert.NotNull(error);
    }

    [Theory]
    [InlineData("https://127.0.0.1/callback")]
    [InlineData("https://10.0.0.1:8443/callback")]
    [InlineData("https://169.254.169.254/metadata")]
    [InlineData("https://[::1]/callback")]
    [InlineData("https://[fe80::1]/callback")]
    [InlineData("https://[::ffff:127.0.0.1]/callback")]
    public async Task A_literal_private_address_is_refused_without_asking_dns(string candidate)
    {
        var (url, error) = await Policy(dns: PublicHost).CheckAsync(candidate, default);

        Assert.Null(url);
        Assert.Contains("loopback, link-local or private", error);
        Assert.Empty(_resolved);
    }

    [Fact]
    public async Task A_literal_public_address_is_accepted_without_asking_dns()
    {
        var (url, error) = await Policy().CheckAsync("https://93.184.216.34/callback", default);

        Assert.Null(error);
        Assert.NotNull(url);
        Assert.Empty(_resolved);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.255.255.254")]
    [InlineData("0.0.0.0")]
    [InlineData("0.1.2.3")]
    [InlineData("10.0.0.1")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.0.1")]
    [InlineData("169.254.0.1")]
    [InlineData("100.64.0.1")]
    [InlineData("100.127.255.255")]
    [InlineData("224.0.0.1")]
    [InlineData("239.255.255.250")]
    [InlineData("255.255.255.255")]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("fec0::1")]
    [InlineData("fc00::1")]
    [InlineData("fdff:ffff::1")]
    [InlineData("ff02::1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    public void Loopback_link_local_private_cgnat_and_multicast_addresses_are_not_public(string address) =>
        Assert.False(CallbackUrlPolicy.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("93.184.216.34")]
    [InlineData("8.8.8.8")]
    [InlineData("172.15.255.255")]
    [InlineData("172.32.0.1")]
    [InlineData("100.63.255.255")]
    [InlineData("100.128.0.1")]
    [InlineData("192.167.1.1")]
    [InlineData("223.255.255.255")]
    [InlineData("2606:2800:220:1:248:1893:25c8:1946")]
    [InlineData("::ffff:93.184.216.34")]
    public void Addresses_on_the_public_internet_are_public(string address) =>
        Assert.True(CallbackUrlPolicy.IsPublic(IPAddress.Parse(address)));

    [Fact]
    public async Task A_connection_to_a_host_that_now_resolves_privately_is_refused_before_any_socket_opens()
    {
        // DNS rebinding: the host was public when subscribing; at delivery it resolves to the metadata endpoint.
        var policy = Policy(dns: ("rebind.example.com", ["169.254.169.254"]));
        using var handler = new SocketsHttpHandler { ConnectCallback = policy.ConnectAsync };
        using var client = new HttpClient(handler);

        var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync("https://rebind.example.com/callback", new StringContent("{}")));

        Assert.Equal(["rebind.example.com"], _resolved);
        Assert.Contains("may not reach", e.ToString());
    }
}
