using System.Text;
using System.Text.Json;
using TagStatus.Api.Contracts;

namespace TagStatus.Tests.Api;

public sealed class JsonWritingTests
{
    [Fact]
    public void Phone_numbers_and_links_are_written_as_they_are_not_escaped()
    {
        var recipient = new RecipientDto("+33600000001", "delivered", false, new DateTimeOffset(2026, 11, 27, 10, 0, 0, 123, TimeSpan.FromHours(1)));
        var list = new TagListResponse([], "https://host/api/tags?pageSize=2&continuationToken=a");

        var recipientJson = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(recipient, ApiJsonContext.Api.RecipientDto));
        var listJson = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(list, ApiJsonContext.Api.TagListResponse));

        Assert.Contains("\"phoneNumber\":\"+33600000001\"", recipientJson, StringComparison.Ordinal);
        Assert.Contains("\"statusAt\":\"2026-11-27T09:00:00Z\"", recipientJson, StringComparison.Ordinal);
        Assert.Contains("pageSize=2&continuationToken=a", listJson, StringComparison.Ordinal);
    }
}
