using TagStatus.Core.Domain;

namespace TagStatus.Core.SmsPartner;

/// <summary>Reads delivery statuses from SMS Partner.</summary>
public interface ISmsPartnerClient
{
    /// <summary>One pass over every page of the tag: the rows, the announced total, and how the pass ended.</summary>
    /// <exception cref="SmsPartnerRefusedException">SMS Partner answered <c>success:false</c>.</exception>
    /// <exception cref="SmsPartnerBadAnswerException">The answer was not the documented JSON.</exception>
    /// <exception cref="SmsPartnerUnavailableException">SMS Partner could not be reached after the retries.</exception>
    Task<UpstreamPass> GetStatusesByTagAsync(Tag tag, CancellationToken cancellationToken);
}

