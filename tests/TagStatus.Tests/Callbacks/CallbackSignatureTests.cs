using System.Security.Cryptography;
using System.Text;
using TagStatus.Core.Callbacks;

namespace TagStatus.Tests.Callbacks;

public sealed class CallbackSignatureTests
{
    private const string Key = "signing-key-for-tests";
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"id":"6f1c","type":"tag.completed","tag":"montag"}""");

    [Fact]
    public void The_signature_is_sha256_and_the_lowercase_hex_hmac_of_the_raw_body()
    {
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Key), Body));

        Assert.Equal(expected, CallbackSignature.Sign(Body, Key));
    }

    [Fact]
    public void A_known_vector_signs_as_every_hmac_implementation_does()
    {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        var signature = CallbackSignature.Sign("what do ya want for nothing?"u8, "Jefe");

        Assert.Equal("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", signature);
    }

    [Fact]
    public void The_receiver_check_of_the_readme_accepts_the_signature()
    {
        var header = CallbackSignature.Sign(Body, Key);

        // The receiver code the README gives, verbatim in substance.
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Key), Body));
        Assert.True(CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(header)));
    }

    [Fact]
    public void Verify_accepts_the_signature_of_the_same_body_and_key() =>
        Assert.True(CallbackSignature.Verify(Body, CallbackSignature.Sign(Body, Key), Key));

    [Fact]
    public void Verify_refuses_a_body_changed_by_one_byte()
    {
        var header = CallbackSignature.Sign(Body, Key);
        var tampered = (byte[])Body.Clone();
        tampered[^2] ^= 0x01;

        Assert.False(CallbackSignature.Verify(tampered, header, Key));
    }

    [Fact]
    public void Verify_refuses_a_signature_made_with_another_key() =>
        Assert.False(CallbackSignature.Verify(Body, CallbackSignature.Sign(Body, "another-key"), Key));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("sha256=")]
    [InlineData("sha1=abc")]
    public void Verify_refuses_a_missing_or_malformed_header(string? header) =>
        Assert.False(CallbackSignature.Verify(Body, header, Key));

    [Fact]
    public void Verify_refuses_the_bare_hex_without_its_prefix()
    {
        var bare = CallbackSignature.Sign(Body, Key)["sha256=".Length..];

        Assert.False(CallbackSignature.Verify(Body, bare, Key));
    }

    [Fact]
    public void The_header_names_are_those_of_the_contract()
    {
        Assert.Equal("X-TagStatus-Signature", CallbackSignature.SignatureHeader);
        Assert.Equal("X-TagStatus-Event-Id", CallbackSignature.EventIdHeader);
    }
}
