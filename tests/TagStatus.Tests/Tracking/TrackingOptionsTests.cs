using TagStatus.Core.Tracking;
using static TagStatus.Tests.Support.Data;

namespace TagStatus.Tests.Tracking;

public sealed class TrackingOptionsTests
{
    private readonly TrackingOptions _options = new();

    [Theory]
    [InlineData(10, 121, true)]      // a small pass past the 2 h limit was abandoned
    [InlineData(10, 119, false)]
    [InlineData(9_500, 240, false)]  // 9,500 pages paced at 0.8 s take 2 h 7 min: 2 h later it is still going
    [InlineData(9_500, 248, true)]
    public void A_pass_is_too_old_only_past_the_limit_plus_its_paced_reading_time(int pages, int minutesOld, bool outlived)
    {
        var now = T0.AddDays(1);

        Assert.Equal(outlived, _options.PassOutlived(now.AddMinutes(-minutesOld), pages, now));
    }
}
