namespace TagStatus.Core.SmsPartner.Budget;

/// <summary>
/// One API key's token bucket as stored: <see cref="Tokens"/> as of <see cref="RefilledAt"/>, and, after a 429,
/// the time before which nobody calls. Pure arithmetic; <see cref="SharedTokenBucket"/> stores it.
/// </summary>
public readonly record struct BucketState(double Tokens, DateTimeOffset RefilledAt, DateTimeOffset? BlockedUntil)
{
    // Refill sums of fractions land a hair under a whole token; this keeps such a token usable.
    private const double Rounding = 1e-9;

    public static BucketState Full(DateTimeOffset now, BudgetRules rules) => new(rules.Capacity, now, null);

    public int WholeTokens => (int)Math.Floor(Tokens + Rounding);

    /// <summary>
    /// Adds what accrued since <see cref="RefilledAt"/>, up to the capacity. A clock behind <see cref="RefilledAt"/>
    /// (another instance's clock runs ahead, or a 429 moved it into the future) adds nothing and never moves it back,
    /// so clock skew between instances adds at most skew × rate tokens.
    /// </summary>
    public BucketState RefilledTo(DateTimeOffset now, BudgetRules rules)
    {
        if (now <= RefilledAt)
        {
            return this;
        }

        var accrued = (now - RefilledAt).TotalSeconds * rules.RatePerSecond;
        return this with { Tokens = Math.Min(rules.Capacity, Tokens + accrued), RefilledAt = now };
    }

    /// <summary>How long from <paramref name="now"/> until a whole token is there; zero when one is. Call on a refilled state.</summary>
    public TimeSpan WaitForOneToken(DateTimeOffset now, BudgetRules rules)
    {
        if (BlockedUntil is { } until && until > now)
        {
            return until - now;
        }

        if (WholeTokens >= 1)
        {
            return TimeSpan.Zero;
        }

        var refillStartsIn = RefilledAt > now ? RefilledAt - now : TimeSpan.Zero;
        var wait = refillStartsIn + TimeSpan.FromSeconds((1 - Tokens) / rules.RatePerSecond);
        // A token a hair short of whole (refill sums of fractions) is a wait under one tick, which TimeSpan rounds to zero:
        // zero would read as "take now" and the take would find no whole token.
        return wait > TimeSpan.Zero ? wait : TimeSpan.FromTicks(1);
    }

    /// <summary>
    /// Takes <paramref name="tokens"/> once a whole token is there: the first is there, the others are borrowed from the
    /// refill to come (the bucket goes below zero), so the next take waits until the debt is paid back.
    /// </summary>
    public BucketState Take(int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
        if (WholeTokens < 1)
        {
            throw new InvalidOperationException("No whole token to take: wait for WaitForOneToken first.");
        }

        return this with { Tokens = Tokens - tokens };
    }

    /// <summary>When the <paramref name="index"/>-th token of a take from this (refilled) state is there: now for the first.</summary>
    public DateTimeOffset SlotOf(int index, BudgetRules rules) =>
        RefilledAt + TimeSpan.FromSeconds(Math.Max(0, index + 1 - Tokens) / rules.RatePerSecond);

    /// <summary>
    /// Nobody calls before <paramref name="until"/>, and the bucket restarts empty then, so the end of a 429 is not a
    /// burst; slots that batches reserved past <paramref name="until"/> are still owed. A longer block already stored wins.
    /// </summary>
    public BucketState BlockedUntilAtLeast(DateTimeOffset now, DateTimeOffset until, BudgetRules rules)
    {
        if (BlockedUntil is { } current && current >= until)
        {
            return this;
        }

        var refilled = RefilledTo(now, rules);
        var repaidByThen = until > refilled.RefilledAt ? (until - refilled.RefilledAt).TotalSeconds * rules.RatePerSecond : 0;
        return new BucketState(Math.Min(0, refilled.Tokens + repaidByThen), until > refilled.RefilledAt ? until : refilled.RefilledAt, until);
    }
}
