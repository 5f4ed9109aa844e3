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

    /// <summary>
    /// Continues an open pass with at most <paramref name="maxPages"/> more pages, from the page after its last: a big tag
    /// read over several invocations. The pass ends (its <see cref="UpstreamPass.End"/> leaves <see cref="PassEnd.Open"/>)
    /// when the read is over; pages read before a failure stay in it. A pass that does not hold its earlier pages
    /// (<see cref="UpstreamPass.After"/>) also stops, still open, once it <see cref="UpstreamPass.NeedsEarlierPages"/>.
    /// </summary>
    /// <exception cref="SmsPartnerException">As <see cref="GetStatusesByTagAsync"/>.</exception>
    Task ContinuePassAsync(Tag tag, UpstreamPass pass, int maxPages, CancellationToken cancellationToken);
}

