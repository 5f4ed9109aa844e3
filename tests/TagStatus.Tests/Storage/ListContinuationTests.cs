using TagStatus.Core.Storage;

namespace TagStatus.Tests.Storage;

public sealed class ListContinuationTests
{
    [Fact]
    public void A_token_the_service_wrote_reads_back_to_where_the_query_resumes()
    {
        var token = ListContinuation.Write("tracked 9223372036854775807~bW9udGFn");

        Assert.True(ListContinuation.TryRead(token, out var resumeAt));
        Assert.Equal("tracked 9223372036854775807~bW9udGFn", resumeAt);
        Assert.DoesNotContain(' ', token);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("")]
    [InlineData("v1..")]
    [InlineData("v2.dHJhY2tlZA.AAAAAAAAAAAAAAAA")]
    [InlineData("v1.dHJhY2tlZA.AAAAAAAAAAAAAAAA")]
    [InlineData("v1.!!!.AAAA")]
    [InlineData("tracked 9223372036854775807~bW9udGFn")]
    public void Anything_else_is_refused(string token)
    {
        Assert.False(ListContinuation.TryRead(token, out _));
    }

    [Fact]
    public void A_token_with_its_payload_changed_is_refused()
    {
        var token = ListContinuation.Write("tracked 0000000000000000001~YQ");
        var parts = token.Split('.');
        var forged = string.Join('.', parts[0], ListContinuation.Write("tracked 0000000000000000002~Yg").Split('.')[1], parts[2]);

        Assert.False(ListContinuation.TryRead(forged, out _));
    }

    [Fact]
    public void An_overlong_token_is_refused_without_decoding()
    {
        Assert.False(ListContinuation.TryRead(ListContinuation.Write(new string('x', 4000)), out _));
    }
}
