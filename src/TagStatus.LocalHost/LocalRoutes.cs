using Microsoft.AspNetCore.Mvc;
using TagStatus.Api.Handlers;

namespace TagStatus.LocalHost;

/// <summary>The authorization level of a route, as the Functions <c>HttpTrigger</c> declares it.</summary>
public enum RouteAuth
{
    Anonymous,
    Function,
}

/// <summary>One HTTP function as the local host serves it: the same name, method, route (under <c>/api</c>) and level.</summary>
/// <param name="Invoke">Calls the shared handler, exactly as the function class does.</param>
public sealed record LocalRoute(string Name, string Method, string Template, RouteAuth Auth, Func<HttpContext, Task<IActionResult>> Invoke);

/// <summary>
/// The route table <c>Program</c> maps, one row per HTTP function in <c>src/TagStatus.Functions</c>. The end-to-end
/// tests compare it with the Functions build's <c>functions.metadata</c>, so the two hosts cannot drift apart.
/// </summary>
public static class LocalRoutes
{
    public const string Prefix = "api";

    public static IReadOnlyList<LocalRoute> All { get; } =
    [
        new("GetTag", "GET", "tags/{tag}", RouteAuth.Function,
            c => Handler<TagLookupHandler>(c).GetAsync(c.Request, Value(c, "tag"), c.RequestAborted)),
        new("GetTagRecipients", "GET", "tags/{tag}/recipients", RouteAuth.Function,
            c => Handler<TagLookupHandler>(c).GetRecipientsAsync(c.Request, Value(c, "tag"), c.RequestAborted)),
        new("RegisterTag", "POST", "tags", RouteAuth.Function,
            c => Handler<TrackingHandler>(c).RegisterAsync(c.Request, c.RequestAborted)),
        new("ListTags", "GET", "tags", RouteAuth.Function,
            c => Handler<TrackingHandler>(c).ListAsync(c.Request, c.RequestAborted)),
        new("UntrackTag", "DELETE", "tags/{tag}", RouteAuth.Function,
            c => Handler<TrackingHandler>(c).UntrackAsync(Value(c, "tag"), c.RequestAborted)),
        new("GetTagCompletion", "GET", "tags/{tag}/completion", RouteAuth.Function,
            c => Handler<TrackingHandler>(c).CompletionAsync(c.Request, Value(c, "tag"), c.RequestAborted)),
        new("SubscribeToTag", "POST", "tags/{tag}/subscriptions", RouteAuth.Function,
            c => Handler<SubscriptionHandler>(c).SubscribeAsync(c.Request, Value(c, "tag"), c.RequestAborted)),
        new("UnsubscribeFromTag", "DELETE", "tags/{tag}/subscriptions/{id}", RouteAuth.Function,
            c => Handler<SubscriptionHandler>(c).UnsubscribeAsync(Value(c, "tag"), Value(c, "id"), c.RequestAborted)),
        new("GetHealth", "GET", "health", RouteAuth.Function,
            c => Handler<HealthHandler>(c).GetAsync(c.RequestAborted)),
        new("RotateTagSubscriptionSecret", "POST", "tags/{tag}/subscriptions/{id}/rotate-secret", RouteAuth.Function,
            c => Handler<SubscriptionHandler>(c).RotateSecretAsync(Value(c, "tag"), Value(c, "id"), c.RequestAborted)),
        new("SubscribeToAnyTag", "POST", "subscriptions", RouteAuth.Function,
            c => Handler<SubscriptionHandler>(c).SubscribeToAnyTagAsync(c.Request, c.RequestAborted)),
        new("UnsubscribeFromAnyTag", "DELETE", "subscriptions/{id}", RouteAuth.Function,
            c => Handler<SubscriptionHandler>(c).UnsubscribeAsync(null, Value(c, "id"), c.RequestAborted)),
        new("RotateAnyTagSubscriptionSecret", "POST", "subscriptions/{id}/rotate-secret", RouteAuth.Function,
            c => Handler<SubscriptionHandler>(c).RotateSecretAsync(null, Value(c, "id"), c.RequestAborted)),
        new("ListDeadLetters", "GET", "deadletters", RouteAuth.Function,
            c => Handler<DeadLetterHandler>(c).ListAsync(c.Request, c.RequestAborted)),
        new("ReplayDeadLetter", "POST", "deadletters/{id}/replay", RouteAuth.Function,
            c => Handler<DeadLetterHandler>(c).ReplayAsync(Value(c, "id"), c.RequestAborted)),
        new("DeleteDeadLetter", "DELETE", "deadletters/{id}", RouteAuth.Function,
            c => Handler<DeadLetterHandler>(c).DeleteAsync(Value(c, "id"), c.RequestAborted)),
        new("GetOpenApiDocument", "GET", "openapi.json", RouteAuth.Anonymous,
            c => Task.FromResult(Handler<OpenApiHandler>(c).Get(c.Request))),
    ];

    private static T Handler<T>(HttpContext context)
        where T : notnull => context.RequestServices.GetRequiredService<T>();

    private static string Value(HttpContext context, string name) =>
        context.GetRouteValue(name) as string ?? string.Empty;
}
