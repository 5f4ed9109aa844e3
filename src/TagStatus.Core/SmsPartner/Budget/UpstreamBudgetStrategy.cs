using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Polly;

namespace TagStatus.Core.SmsPartner.Budget;

/// <summary>
/// The budget as a step of the SMS Partner resilience pipeline, inside the retry (so every attempt pays) and outside
/// the attempt timeout (so waiting for a token is not a timed-out attempt that would trip the circuit breaker).
/// A 429 is stored in the shared bucket before the retry strategy sees it.
/// </summary>
internal sealed class UpstreamBudgetStrategy(UpstreamBudget budget, TimeProvider clock, ILogger logger) : ResilienceStrategy<HttpResponseMessage>
{
    protected override async ValueTask<Outcome<HttpResponseMessage>> ExecuteCore<TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<HttpResponseMessage>>> callback,
        ResilienceContext context,
        TState state)
    {
        var apiKey = ApiKeyOf(context.GetRequestMessage());
        try
        {
            await budget.AcquireAsync(apiKey, context.CancellationToken).ConfigureAwait(context.ContinueOnCapturedContext);
        }
        catch (UpstreamBudgetUnavailableException e)
        {
            UpstreamBudgetLog.Unavailable(logger, e);
            return Outcome.FromException<HttpResponseMessage>(e);
        }
        catch (OperationCanceledException e)
        {
            return Outcome.FromException<HttpResponseMessage>(e);
        }

        var outcome = await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
        if (outcome.Result is { StatusCode: HttpStatusCode.TooManyRequests } tooMany)
        {
            try
            {
                await budget.ReportTooManyRequestsAsync(apiKey, RetryAfterOf(tooMany), context.CancellationToken).ConfigureAwait(context.ContinueOnCapturedContext);
            }
            catch (UpstreamBudgetUnavailableException e)
            {
                // The retry strategy still honours Retry-After for this call; the next attempt's take fails closed.
                UpstreamBudgetLog.BlockNotStored(logger, e);
            }
        }

        return outcome;
    }

    private TimeSpan? RetryAfterOf(HttpResponseMessage response) =>
        response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - clock.GetUtcNow(),
            _ => null,
        };

    /// <summary>The unescaped <c>apiKey</c> query value; it only ever goes into <see cref="UpstreamBudget.HashOf"/>.</summary>
    internal static string ApiKeyOf(HttpRequestMessage? request)
    {
        var query = request?.RequestUri?.Query ?? string.Empty;
        foreach (var pair in query.TrimStart('?').Split('&'))
        {
            if (pair.StartsWith("apiKey=", StringComparison.OrdinalIgnoreCase))
            {
                return Uri.UnescapeDataString(pair["apiKey=".Length..]);
            }
        }

        return string.Empty;
    }
}

internal sealed class UpstreamBudgetStrategyOptions : ResilienceStrategyOptions
{
    public UpstreamBudgetStrategyOptions() => Name = "UpstreamBudget";
}
