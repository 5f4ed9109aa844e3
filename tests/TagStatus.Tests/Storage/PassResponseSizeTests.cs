using TagStatus.Core.Storage;

namespace TagStatus.Tests.Storage;

public sealed class PassResponseSizeTests
{
    [Theory]
    [InlineData(100, 100_000, 1)] // pages of 1,000 rows
    [InlineData(5_000, 100_000, 50)] // pages of 20 rows
    [InlineData(20_000, 20_000, 1_000)] // pages of one row: the service's most entities a response
    [InlineData(1, 5, 200)]
    [InlineData(3, 0, 1)] // a cursor of the first versions counted no rows: as if pages of 1,000 rows
    [InlineData(int.MaxValue, 1, 1_000)]
    public void A_stored_pass_is_asked_for_about_a_thousand_rows_a_response(int pages, int rowsRead, int expected)
    {
        var cursor = new PassCursor(pages, rowsRead, null, DateTimeOffset.UnixEpoch, default, []);

        Assert.Equal(expected, TablePassStore.PagesPerResponse(cursor));
    }
}
