using System.Text.Json.Serialization;

namespace SmsPartner.Simulator;

/// <summary>The <c>/_admin</c> API (no key): seeding, key rotation, faults, response shape, clock, stats.</summary>
internal static class AdminEndpoints
{
    public const string Prefix = "/_admin";

    public static void Map(WebApplication app, ILogger logger)
    {
        var admin = app.MapGroup(Prefix);

        admin.MapGet("/health", () => Results.Ok(new { status = "ok" }));

        admin.MapPost("/reset", (SimulatorState state) =>
        {
            state.Reset();
            SimulatorLog.StateReset(logger);
            return Results.NoContent();
        });

        // ---- Tags
        admin.MapGet("/tags", (SimulatorState state) =>
            Results.Ok(state.Tags.Select(t => new { tag = t.Key, count = t.Value }).OrderBy(t => t.tag, StringComparer.Ordinal)));

        admin.MapGet("/tags/{tag}", (string tag, SimulatorState state) =>
            state.GetRows(tag) is { } rows
                ? Results.Ok(new { tag, total = rows.Count, rows })
                : Results.NotFound(new { error = $"Tag '{tag}' is not seeded." }));

        admin.MapPut("/tags/{tag}", (string tag, TagSeed body, SimulatorState state) => Guard(logger, () =>
        {
            var count = state.SeedTag(tag, body);
            SimulatorLog.TagSeeded(logger, tag, count);
            return Results.Ok(new { tag, count });
        }));

        admin.MapDelete("/tags/{tag}", (string tag, SimulatorState state) =>
        {
            var removed = state.RemoveTag(tag);
            SimulatorLog.TagRemoved(logger, tag, removed);
            return removed ? Results.NoContent() : Results.NotFound(new { error = $"Tag '{tag}' is not seeded." });
        });

        // ---- API keys (write-only: keys are never echoed)
        admin.MapPut("/apikeys", (ApiKeysBody body, SimulatorState state) => Guard(logger, () =>
        {
            state.SetValidKeys(body.ValidKeys ?? throw new ArgumentException("validKeys is required."));
            SimulatorLog.KeysRotated(logger, state.ValidKeyCount);
            return Results.Ok(new { validKeyCount = state.ValidKeyCount });
        }));

        // ---- Faults
        admin.MapPost("/faults", (FaultSpec body, SimulatorState state) => Guard(logger, () =>
        {
            state.QueueFault(body);
            SimulatorLog.FaultQueued(logger, body.Kind, body.Count, body.Tag);
            return Results.Ok(new { pending = state.PendingFaults });
        }));

        admin.MapGet("/faults", (SimulatorState state) => Results.Ok(new { pending = state.PendingFaults }));

        admin.MapDelete("/faults", (SimulatorState state) =>
        {
            state.ClearFaults();
            return Results.NoContent();
        });

        // ---- Response shape
        admin.MapGet("/paging", (SimulatorState state) => Results.Ok(state.Paging));

        admin.MapPut("/paging", (PagingBody body, SimulatorState state) => Guard(logger, () =>
        {
            var current = state.Paging;
            state.Paging = new PagingSettings(
                body.PageSize ?? current.PageSize,
                body.IgnorePage ?? current.IgnorePage,
                body.NumbersAsStrings ?? current.NumbersAsStrings,
                body.DateAsNumber ?? current.DateAsNumber,
                body.StopSmsAs ?? current.StopSmsAs,
                body.ShiftPerRequest ?? current.ShiftPerRequest);
            SimulatorLog.PagingChanged(logger, state.Paging);
            return Results.Ok(state.Paging);
        }));

        admin.MapGet("/errors", (SimulatorState state) => Results.Ok(new { useHttpStatus = state.FailuresUseHttpStatus }));

        admin.MapPut("/errors", (ErrorsBody body, SimulatorState state) =>
        {
            state.FailuresUseHttpStatus = body.UseHttpStatus;
            return Results.Ok(new { useHttpStatus = state.FailuresUseHttpStatus });
        });

        // ---- Clock
        admin.MapGet("/clock", (SimulatorState state) => Results.Ok(ClockView(state)));

        admin.MapPost("/clock/advance", (AdvanceBody body, SimulatorState state) => Guard(logger, () =>
        {
            if (body.Seconds < 0 || double.IsNaN(body.Seconds) || double.IsInfinity(body.Seconds))
            {
                throw new ArgumentException("seconds must be a non-negative number.");
            }

            state.AdvanceClock(TimeSpan.FromSeconds(body.Seconds));
            SimulatorLog.ClockAdvanced(logger, body.Seconds, state.Now);
            return Results.Ok(ClockView(state));
        }));

        admin.MapDelete("/clock", (SimulatorState state) =>
        {
            state.Clock.Reset();
            return Results.Ok(ClockView(state));
        });

        // ---- Stats
        admin.MapGet("/stats", (SimulatorState state) => Results.Ok(state.GetStats()));

        // Per-call arrival times, for judging rate limits; reset with the stats.
        admin.MapGet("/stats/calls", (SimulatorState state) => Results.Ok(new { calls = state.GetCalls(), kept = SimulatorState.CallsKept }));

        admin.MapDelete("/stats", (SimulatorState state) =>
        {
            state.ResetStats();
            return Results.NoContent();
        });
    }

    private static object ClockView(SimulatorState state)
    {
        var now = state.Now;
        return new { utcNow = now, unixSeconds = now.ToUnixTimeSeconds(), offsetSeconds = state.Clock.Offset.TotalSeconds };
    }

    private static IResult Guard(ILogger logger, Func<IResult> action)
    {
        try
        {
            return action();
        }
        catch (ArgumentException e)
        {
            SimulatorLog.AdminBadRequest(logger, e.Message);
            return Results.BadRequest(new { error = e.Message });
        }
    }

    internal sealed class ApiKeysBody
    {
        public List<string>? ValidKeys { get; set; }
    }

    internal sealed class PagingBody
    {
        public int? PageSize { get; set; }

        public bool? IgnorePage { get; set; }

        public bool? NumbersAsStrings { get; set; }

        public bool? DateAsNumber { get; set; }

        public StopSmsFormat? StopSmsAs { get; set; }

        public int? ShiftPerRequest { get; set; }
    }

    internal sealed class ErrorsBody
    {
        public bool UseHttpStatus { get; set; }
    }

    internal sealed class AdvanceBody
    {
        [JsonRequired]
        public double Seconds { get; set; }
    }
}
