using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Azure.Core.Pipeline;

namespace TagStatus.KeyVaultTests;

/// <summary>A self-signed certificate for 127.0.0.1, made once per test run, and a transport that trusts only it.</summary>
internal static class TestCertificate
{
    private static readonly Lazy<X509Certificate2> Lazy = new(Create);

    public static X509Certificate2 Certificate => Lazy.Value;

    /// <summary>An Azure SDK transport whose TLS trusts the test certificate and nothing else.</summary>
    public static HttpClientTransport CreateTransport() => new(new HttpClientHandler
    {
        ServerCertificateCustomValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors),
    });

    private static bool IsTrusted(X509Certificate2? certificate, SslPolicyErrors errors)
    {
        // No certificate or a name mismatch: refuse. A chain error is expected (no system root signed it),
        // so trust is pinned instead: exactly this certificate, nothing else.
        return certificate is not null
            && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None
            && certificate.RawData.AsSpan().SequenceEqual(Certificate.RawData);
    }

    private static X509Certificate2 Create()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        // Round-trip through PFX so the private key is usable by the TLS stack on every platform.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), password: null);
    }
}
