using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;
using TagStatus.Core.Domain;
using TagStatus.Core.Secrets;
using TagStatus.Core.SmsPartner.Budget;

namespace TagStatus.Core.SmsPartner;

/// <summary>
/// The <c>bulk-status-by-tag</c> client. Retries, timeouts, the circuit breaker and the shared call budget live in the
/// HttpClient's resilience pipeline (see <see cref="SmsPartnerServiceCollectionExtensions"/>); this class pages,
/// parses and turns every failure into one of the typed <see cref="SmsPartnerException"/>s.
/// </summary>
public sealed class SmsPartnerClient(
    HttpClient http,
    ISecretSource secrets,
    IOptions<SmsPartnerOptions> options,
    TimeProvider time,
    ILogger<SmsPartnerClient> logger) : ISmsPartnerClient
{
    private readonly SmsPartnerOptions _options = options.Value;

    public async Task<UpstreamPass> GetStatusesByTagAsync(Tag tag, CancellationToken cancellationToken)
    {
        var pass = new UpstreamPass();
        await ContinuePassAsync(tag, pass, _options.MaxPages, cancellationToken).ConfigureAwait(false);
        if (pass.End == PassEnd.Open)
        {
            throw new SmsPartnerBadAnswerException($"SMS Partner kept sending pages for the tag past the limit of {_options.MaxPages} (SmsPartner:MaxPages).");
        }

        return pass;
    }

    public async Task ContinuePassAsync(Tag tag, UpstreamPass pass, int maxPages, CancellationToken cancellationToken)
    {
        var apiKey = await secrets.GetAsync(AppSecret.SmsPartnerApiKey, cancellationToken).ConfigureAwait(false);
        try
        {
            await ReadPagesAsync(tag, apiKey, pass, maxPages, cancellationToken).ConfigureAwait(false);
        }
        catch (SmsPartnerRefusedException refused) when (refused.Code == SmsPartnerRefusedException.InvalidApiKey)
        {
            // The key may have been rotated in the vault since it was cached: re-read it once and try once more.
            SmsPartnerLog.KeyRefusedRereading(logger, tag.Value);
            var rotated = await secrets.RefreshAsync(AppSecret.SmsPartnerApiKey, apiKey, cancellationToken).ConfigureAwait(false);
            if (string.Equals(rotated, apiKey, StringComparison.Ordinal))
            {
                SmsPartnerLog.KeyRefused(logger);
                throw;
            }

            try
            {
                await ReadPagesAsync(tag, rotated, pass, maxPages, cancellationToken).ConfigureAwait(false);
            }
            catch (SmsPartnerRefusedException again) when (again.Code == SmsPartnerRefusedException.InvalidApiKey)
            {
                SmsPartnerLog.KeyRefused(logger);
                throw;
            }
        }
    }

    /// <summary>
    /// Reads the pages after the pass's last, at most <paramref name="maxPages"/>, until the distinct rows reach the
    /// announced total, a page comes back empty, or a page repeats the previous one (an endpoint that ignores
    /// <c>page</c>); the pass stays open when the pages run out first. Never past <see cref="SmsPartnerOptions.MaxPages"/>.
    /// </summary>
    private async Task ReadPagesAsync(Tag tag, string apiKey, UpstreamPass pass, int maxPages, CancellationToken cancellationToken)
    {
        if (pass.End == PassEnd.Open && pass.HasReachedTotal)
        {
            // A pass whose earlier pages were just loaded may already count every row announced.
            Ended(tag, pass, PassEnd.ReachedTotal);
        }

        // A pass that does not hold its earlier pages stops where they may be needed to count rows distinct.
        for (var read = 0; read < maxPages && pass.End == PassEnd.Open && !pass.NeedsEarlierPages; read++)
        {
            var page = pass.PagesRead + 1;
            if (page > _options.MaxPages)
            {
                throw new SmsPartnerBadAnswerException($"SMS Partner kept sending pages for the tag past the limit of {_options.MaxPages} (SmsPartner:MaxPages).");
            }

            var envelope = await GetPageAsync(tag, apiKey, page, cancellationToken).ConfigureAwait(false);
            var pageRows = (envelope.Rows ?? []).Select(ToRecipient).ToList();

            var ignoresPaging = page > 1 && (envelope.CurrentPage is { } current && current != page
                || pass.LastPage.SequenceEqual(pageRows));
            if (ignoresPaging)
            {
                SmsPartnerLog.PagingIgnored(logger, tag.Value, page);
                Ended(tag, pass, PassEnd.PagingIgnored);
            }
            else if (pageRows.Count == 0)
            {
                Ended(tag, pass, PassEnd.Exhausted);
            }
            else
            {
                pass.Add(pageRows, envelope.Total);
                if (pass.HasReachedTotal)
                {
                    Ended(tag, pass, PassEnd.ReachedTotal);
                }
            }
        }
    }

    private UpstreamPass Ended(Tag tag, UpstreamPass pass, PassEnd end)
    {
        if (pass.RowsReadCount == 0)
        {
            // success:true with nothing in it: SMS Partner knows no message under the tag.
            throw new SmsPartnerRefusedException(SmsPartnerRefusedException.MessageNotFound, "No message under the tag.");
        }

        pass.Finish(end);
        foreach (var unknown in pass.UnknownStatuses)
        {
            SmsPartnerLog.UnknownStatus(logger, unknown, tag.Value);
        }

        // A pass that does not count its earlier pages is judged once they are loaded (its refresher does that).
        if (pass.CountsAllPages && !pass.IsFull)
        {
            SmsPartnerLog.ShortAnswer(logger, pass.DistinctCount, pass.AnnouncedTotal);
        }

        return pass;
    }

    private async Task<StatusPage> GetPageAsync(Tag tag, string apiKey, int page, CancellationToken cancellationToken)
    {
        var relative = $"bulk-status-by-tag?apiKey={Uri.EscapeDataString(apiKey)}&tag={Uri.EscapeDataString(tag.Value)}&page={page}";
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_options.BaseUrl, relative));

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsUnreachable(e, cancellationToken))
        {
            throw new SmsPartnerUnavailableException($"SMS Partner could not be reached ({Describe(e)}).", RetryAfterOf(e), e);
        }

        using (response)
        {
            if ((int)response.StatusCode >= 500 || response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout)
            {
                throw new SmsPartnerUnavailableException(
                    $"SMS Partner answered HTTP {(int)response.StatusCode} after the retries.",
                    response.Headers.RetryAfter?.Delta ?? (response.Headers.RetryAfter?.Date - time.GetUtcNow()));
            }

            var envelope = await ParseAsync(response, cancellationToken).ConfigureAwait(false);
            if (envelope.Success is false || envelope.Success is null && envelope.Code is { } code && code != 200)
            {
                throw new SmsPartnerRefusedException(envelope.Code ?? 0, Redact(envelope.Message, apiKey));
            }

            if (envelope.Success is null && envelope.Rows is null || !response.IsSuccessStatusCode)
            {
                throw new SmsPartnerBadAnswerException($"SMS Partner answered HTTP {(int)response.StatusCode} without the documented envelope.");
            }

            return envelope;
        }
    }

    private static async Task<StatusPage> ParseAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return await JsonSerializer.DeserializeAsync(body, SmsPartnerJsonContext.Default.StatusPage, cancellationToken).ConfigureAwait(false)
                ?? throw new SmsPartnerBadAnswerException("SMS Partner answered JSON null.");
        }
        catch (JsonException e)
        {
            // Position only: the body itself may echo the request.
            throw new SmsPartnerBadAnswerException(
                $"SMS Partner answered HTTP {(int)response.StatusCode} with a body that is not its JSON envelope (line {e.LineNumber}, byte {e.BytePositionInLine}).");
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw new SmsPartnerUnavailableException("SMS Partner's answer was cut off.", null, e);
        }
    }

    private static UpstreamRecipient ToRecipient(StatusRow row) => new(
        row.PhoneNumber ?? string.Empty,
        row.Status ?? string.Empty,
        row.StopSms ?? false,
        UpstreamDates.FromUnixSeconds(row.Date));

    private static bool IsUnreachable(Exception e, CancellationToken cancellationToken) => e switch
    {
        HttpRequestException or TimeoutRejectedException or BrokenCircuitException or UpstreamBudgetUnavailableException => true,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        _ => false,
    };

    private static TimeSpan? RetryAfterOf(Exception e) => e switch
    {
        UpstreamBudgetUnavailableException => UpstreamBudgetUnavailableException.RetryAfter,
        _ => null,
    };

    private static string Describe(Exception e) => e switch
    {
        TimeoutRejectedException or OperationCanceledException => "timed out",
        BrokenCircuitException => "circuit open after repeated failures",
        UpstreamBudgetUnavailableException => "the shared call budget in Table Storage cannot be reached",
        HttpRequestException http => http.HttpRequestError.ToString(),
        _ => e.GetType().Name,
    };

    private static string? Redact(string? text, string apiKey) =>
        text is null || apiKey.Length == 0
            ? text
            : text.Replace(apiKey, "***", StringComparison.Ordinal).Replace(Uri.EscapeDataString(apiKey), "***", StringComparison.Ordinal);
}
