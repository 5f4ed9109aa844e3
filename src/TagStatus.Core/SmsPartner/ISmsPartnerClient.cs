using TagStatus.Core.Domain;

namespace TagStatus.Core.SmsPartner;

/// <summary>Reads delivery statuses from SMS Partner.</summary>
public interface ISmsPartnerClient
{
    /// <summary>Every message under the tag, across all pages.</summary>
    /// <exception cref="SmsPartnerRefusedException">SMS Partner answered <c>success:false</c>.</exception>
    /// <exception cref="SmsPartnerBadAnswerException">The answer was not the documented JSON.</exception>
    /// <exception cref="SmsPartnerUnavailableException">SMS Partner could not be reached after the retries.</exception>
    Task<UpstreamTagReport> GetStatusesByTagAsync(Tag tag, CancellationToken cancellationToken);
}

/// <param name="Recipients">The rows, in the order SMS Partner gave them.</param>
/// <param name="AnnouncedTotal">The <c>total</c> SMS Partner announced, when it did.</param>
/// <param name="IsComplete">False when fewer rows came than announced: such an answer never completes a tag.</param>
public sealed record UpstreamTagReport(IReadOnlyList<UpstreamRecipient> Recipients, int? AnnouncedTotal, int PagesRead, bool IsComplete);
