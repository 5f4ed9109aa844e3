using Microsoft.OpenApi.Any;
using Microsoft.OpenApi.Models;
using TagStatus.Core.Callbacks;
using TagStatus.Core.Domain;
using TagStatus.Core.Lookup;
using static TagStatus.Api.OpenApi.ConnectorExtensions;

namespace TagStatus.Api.OpenApi;

/// <summary>
/// The API's OpenAPI document, built as an object model and written as Swagger 2.0, the version Power Automate and
/// Logic Apps custom connectors import. Each operation carries the name of the function that serves it as its
/// <c>operationId</c>; the schemas describe the JSON the handlers write (<see cref="Contracts.ApiJsonContext"/>),
/// and tests hold both to the build's <c>functions.metadata</c> and to the serialized contracts.
/// </summary>
public static class TagStatusOpenApiDocument
{
    public const string BasePath = "/api";

    /// <summary>The security definition for the function key, sent in the <c>x-functions-key</c> header.</summary>
    public const string SecuritySchemeName = "apiKey";

    public const string FunctionKeyHeader = "x-functions-key";

    /// <summary>Operation ids: the Functions names (<c>[Function(...)]</c>) of the routes.</summary>
    public static class Operations
    {
        public const string GetTag = "GetTag";
        public const string GetTagRecipients = "GetTagRecipients";
        public const string RegisterTag = "RegisterTag";
        public const string ListTags = "ListTags";
        public const string UntrackTag = "UntrackTag";
        public const string GetTagCompletion = "GetTagCompletion";
        public const string SubscribeToTag = "SubscribeToTag";
        public const string UnsubscribeFromTag = "UnsubscribeFromTag";
        public const string RotateTagSubscriptionSecret = "RotateTagSubscriptionSecret";
        public const string SubscribeToAnyTag = "SubscribeToAnyTag";
        public const string UnsubscribeFromAnyTag = "UnsubscribeFromAnyTag";
        public const string RotateAnyTagSubscriptionSecret = "RotateAnyTagSubscriptionSecret";
        public const string ListDeadLetters = "ListDeadLetters";
        public const string ReplayDeadLetter = "ReplayDeadLetter";
        public const string DeleteDeadLetter = "DeleteDeadLetter";
        public const string GetOpenApiDocument = "GetOpenApiDocument";
        public const string GetHealth = "GetHealth";
    }

    /// <summary>Schema names under <c>definitions</c>.</summary>
    public static class Schemas
    {
        public const string Recipient = "Recipient";
        public const string TagSummary = "TagSummary";
        public const string TagDetail = "TagDetail";
        public const string TagList = "TagList";
        public const string RecipientList = "RecipientList";
        public const string RegisterTagRequest = "RegisterTagRequest";
        public const string SubscribeRequest = "SubscribeRequest";
        public const string AnyTagSubscribeRequest = "AnyTagSubscribeRequest";
        public const string Subscription = "Subscription";
        public const string RotatedSecret = "RotatedSecret";
        public const string DeadLetter = "DeadLetter";
        public const string DeadLetterList = "DeadLetterList";
        public const string TagEvent = "TagEvent";
        public const string Problem = "Problem";
        public const string Health = "Health";
    }

    private const string Json = "application/json";
    private const string ProblemJson = "application/problem+json";
    private const string Csv = "text/csv";

    /// <summary>The document for an app reached at <paramref name="scheme"/>://<paramref name="host"/> (host may carry a port).</summary>
    public static OpenApiDocument Build(string scheme, string host)
    {
        ArgumentException.ThrowIfNullOrEmpty(scheme);
        ArgumentException.ThrowIfNullOrEmpty(host);

        var document = new OpenApiDocument
        {
            Info = new OpenApiInfo
            {
                Title = "Tag Status",
                Version = "1.0",
                Description =
                    "Delivery status of SMS Partner campaigns by tag: look a tag up, track it until its delivery is settled, "
                    + "wait for that through the asynchronous request-reply pattern, or be called back when it changes state.",
            },
            Servers = [new OpenApiServer { Url = $"{scheme}://{host}{BasePath}" }],
            Components = new OpenApiComponents
            {
                Schemas = BuildSchemas(),
                SecuritySchemes = new Dictionary<string, OpenApiSecurityScheme>
                {
                    [SecuritySchemeName] = new()
                    {
                        Type = SecuritySchemeType.ApiKey,
                        Name = FunctionKeyHeader,
                        In = ParameterLocation.Header,
                        Description = "The function key (App keys or the function's keys in the portal). The query parameter 'code' works as well.",
                    },
                },
            },
            Paths = new OpenApiPaths
            {
                ["/tags"] = new OpenApiPathItem
                {
                    Operations = new Dictionary<OperationType, OpenApiOperation>
                    {
                        [OperationType.Get] = ListTags(),
                        [OperationType.Post] = RegisterTag(),
                    },
                },
                ["/tags/{tag}"] = new OpenApiPathItem
                {
                    Operations = new Dictionary<OperationType, OpenApiOperation>
                    {
                        [OperationType.Get] = GetTag(),
                        [OperationType.Delete] = UntrackTag(),
                    },
                },
                ["/tags/{tag}/recipients"] = new OpenApiPathItem
                {
                    Operations = new Dictionary<OperationType, OpenApiOperation> { [OperationType.Get] = GetTagRecipients() },
                },
                ["/tags/{tag}/completion"] = new OpenApiPathItem
                {
                    Operations = new Dictionary<OperationType, OpenApiOperation> { [OperationType.Get] = GetTagCompletion() },
                },
                ["/tags/{tag}/subscriptions"] = new OpenApiPathItem
                {
                    Operations = new Dictionary<OperationType, OpenApiOperation> { [OperationType.Post] = SubscribeToTag() },
                    Extensions = { [NotificationContent] = EventNotification("The event posted when the tag changes state") },
                },
                ["/tags/{tag}/subscriptions/{id}"] = new OpenApiPathItem
                {
                    Operations = new Dictionary<OperationType, OpenApiOperation> { [OperationType.Delete] = UnsubscribeFromTag() },
                },
                ["/health"] = new OpenApiPathItem
                {
                    Operations = new Dictionary<OperationType, OpenApiOperation> { [OperationType.Get] = GetHealth() },
                },
                ["/tags/{tag}/subscriptions/{id}/rotate-secret"] = new OpenApiPathItem
                {
                    Operations = new Dictionary<OperationType, OpenApiOperation> { [OperationType.Post] = RotateSecret(Operations.RotateTagSubscriptionSecret, forTag: true) },
                },
                ["/subscriptions"] = new OpenApiPathItem
                {
                    Operations = new Dictionary<OperationType, OpenApiOperation> { [OperationType.Post] = SubscribeToAnyTag() },
                    Extensions = { [NotificationContent] = EventNotification("The event posted when a tag the subscription covers changes state") },
                },
                ["/subscriptions/{id}"] = new OpenApiPathItem
                {
                    Operations = new Dictionary<OperationType, OpenApiOperation> { [OperationType.Delete] = UnsubscribeFromAnyTag() },
                },
                ["/subscriptions/{id}/rotate-secret"] = new OpenApiPathItem
                {
                    Operations = new Dictionary<OperationType, OpenApiOperation> { [OperationType.Post] = RotateSecret(Operations.RotateAnyTagSubscriptionSecret, forTag: false) },
                },
                ["/deadletters"] = new OpenApiPathItem
                {
                    Operations = new Dictionary<OperationType, OpenApiOperation> { [OperationType.Get] = ListDeadLetters() },
                },
                ["/deadletters/{id}"] = new OpenApiPathItem
                {
                    Operations = new Dictionary<OperationType, OpenApiOperation> { [OperationType.Delete] = DeleteDeadLetter() },
                },
                ["/deadletters/{id}/replay"] = new OpenApiPathItem
                {
                    Operations = new Dictionary<OperationType, OpenApiOperation> { [OperationType.Post] = ReplayDeadLetter() },
                },
                ["/openapi.json"] = new OpenApiPathItem
                {
                    Operations = new Dictionary<OperationType, OpenApiOperation> { [OperationType.Get] = GetOpenApiDocument() },
                },
            },
        };
        return document;
    }

    private static OpenApiOperation GetTag() => Secured(new OpenApiOperation
    {
        OperationId = Operations.GetTag,
        Summary = "Get the delivery status of a tag",
        Description =
            "The status of every message sent under the tag, read from storage when fresh enough (see Max age) or from SMS Partner. "
            + "Counts always cover the whole tag (from its stored summary); the recipients are filtered by Status and paged: "
            + "nextLink carries an opaque continuationToken. "
            + "Send 'Accept: text/csv' for every matching recipient as CSV (phoneNumber,status,stopSms,statusAt), streamed; "
            + "a tag whose matching recipients fit in 1,000 rows lists them by number, a bigger one in storage order. "
            + "The answer carries an ETag; If-None-Match with it answers 304. "
            + "One request at a time reads a tag from SMS Partner: the others get what is stored with refreshing true. "
            + "A tag of more pages than the app's Lookup:MaxInlinePages (10 by default) is never read while the caller waits: "
            + "its refresh is queued and the stored tag answers (refreshing true), or with nothing stored yet 202 with "
            + "Location (the tag's completion URL) and Retry-After.",
        Parameters = RecipientPageParameters(),
        Responses = new OpenApiResponses
        {
            ["200"] = new OpenApiResponse
            {
                Description = "The tag with one page of its recipients",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    [Json] = new() { Schema = Ref(Schemas.TagDetail) },
                    [Csv] = new() { Schema = new OpenApiSchema { Type = "string" } },
                },
                Headers = new Dictionary<string, OpenApiHeader>
                {
                    ["ETag"] = StringHeader("A weak entity tag over the tag's data and the page asked for"),
                },
            },
            ["304"] = new OpenApiResponse { Description = "Not modified since the ETag given in If-None-Match" },
        }.WithLookupOutcomes(),
    });

    /// <summary>The recipients alone, in the root <c>value</c> array that the platform's paging merges page after page.</summary>
    private static OpenApiOperation GetTagRecipients() => Secured(new OpenApiOperation
    {
        OperationId = Operations.GetTagRecipients,
        Summary = "List the recipients of a tag",
        Description =
            "The recipients of GetTag alone, one page at a time, as a root value array: turn pagination on in the action's settings "
            + "to get every page. Read from storage when fresh enough (see Max age) or from SMS Partner, filtered by Status.",
        Parameters = RecipientPageParameters(),
        Responses = new OpenApiResponses
        {
            ["200"] = new OpenApiResponse { Description = "One page of the recipients", Content = JsonContent(Ref(Schemas.RecipientList)) },
        }.WithLookupOutcomes(),
        Extensions = { [Pageable] = NextLinkPaging() },
    });

    /// <summary>What a lookup answers besides its 200 (and GetTag's 304), the same for GetTag and GetTagRecipients.</summary>
    private static OpenApiResponses WithLookupOutcomes(this OpenApiResponses responses)
    {
        responses["202"] = new OpenApiResponse
        {
            Description = "Nothing is stored for the tag yet and its read is under way (another request's, or queued for a big tag); poll Location after Retry-After seconds",
            Content = new Dictionary<string, OpenApiMediaType> { [ProblemJson] = new() { Schema = Ref(Schemas.Problem) } },
            Headers = PollingHeaders(),
        };
        responses["400"] = Problem("The tag or a query value breaks a rule (page is no longer taken: follow nextLink); the detail names it");
        responses["401"] = Unauthorized();
        responses["404"] = Problem("SMS Partner knows no message under the tag, and nothing is stored for it");
        responses["410"] = Problem("The tag's recipients are past retention (Retention:Months) and were deleted: its summary still answers at the completion route and in the listing");
        responses["502"] = Problem("SMS Partner refused the call or answered something unreadable; upstreamCode holds its code");
        responses["503"] = Unavailable("SMS Partner or storage cannot be reached and nothing stored can be served");
        return responses;
    }

    private static List<OpenApiParameter> RecipientPageParameters() =>
    [
        TagParameter(),
        IntegerQuery("maxAge", "Max Age", "Serve stored data refreshed within this many seconds (or settled); 0 forces a live read of SMS Partner. Default from the app's settings.", 0, 7 * 24 * 3600, null)
            .WithVisibility(Advanced),
        Query("status", "string", "Status Filter", "Only recipients in these statuses, comma separated: delivered, notDelivered, waiting, unknown."),
        Query("stopSms", "boolean", "Opted Out", "true: only recipients who answered STOP (the numbers a recipient.optedOut event points to); false: only the others. Absent: both."),
        IntegerQuery("pageSize", "Page Size", $"Recipients per page, 1 to {RecipientQuery.MaxPageSize}; a filtered page may hold fewer and still have a nextLink.", 1, RecipientQuery.MaxPageSize, RecipientQuery.DefaultPageSize)
            .WithVisibility(Advanced),
        ContinuationTokenQuery(),
    ];

    private static OpenApiOperation RegisterTag() => Secured(new OpenApiOperation
    {
        OperationId = Operations.RegisterTag,
        Summary = "Track a tag until its delivery is settled",
        Description =
            "Starts tracking the tag so the scheduled refresh keeps it up to date; registering again is harmless. "
            + "A new tag of more pages than the app's Lookup:MaxInlinePages (10 by default) is not read while the caller waits: "
            + "it is tracked at once, pending and partial with no recipient counted yet, and its read goes on in the refresh queue. "
            + "Answers 202 with Location (the tag's completion URL) and Retry-After: an HTTP action with the asynchronous "
            + "pattern on follows them until the tag is complete or expired.",
        RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = "The tag to track",
            Content = new Dictionary<string, OpenApiMediaType> { [Json] = new() { Schema = Ref(Schemas.RegisterTagRequest) } },
            Extensions = { [BodyName] = new OpenApiString("body") },
        },
        Responses = new OpenApiResponses
        {
            ["202"] = new OpenApiResponse
            {
                Description = "Tracked; the tag's summary as it stands. Poll Location after Retry-After seconds",
                Content = JsonContent(Ref(Schemas.TagSummary)),
                Headers = PollingHeaders(),
            },
            ["400"] = Problem("The body is not JSON like { \"tag\": \"montag\" }, or the tag breaks a rule"),
            ["401"] = Unauthorized(),
            ["413"] = Problem("The body is larger than 16 KiB"),
            ["503"] = Unavailable("Storage cannot be reached"),
        },
    });

    private static OpenApiOperation ListTags() => Secured(new OpenApiOperation
    {
        OperationId = Operations.ListTags,
        Summary = "List tracked tags",
        Description = "Tracked tags, newest first, without recipients. nextLink gives the next page.",
        Parameters =
        [
            new OpenApiParameter
            {
                Name = "state",
                In = ParameterLocation.Query,
                Description = "Only tags in this state.",
                Schema = new OpenApiSchema { Type = "string", Enum = StateEnum() },
            }.WithSummary("State"),
            IntegerQuery("pageSize", "Page Size", "Tags per page, 1 to 1000.", 1, 1000, 100).WithVisibility(Advanced),
            ContinuationTokenQuery(),
        ],
        Responses = new OpenApiResponses
        {
            ["200"] = new OpenApiResponse { Description = "One page of tracked tags", Content = JsonContent(Ref(Schemas.TagList)) },
            ["400"] = Problem("state, pageSize or continuationToken is not valid"),
            ["401"] = Unauthorized(),
            ["503"] = Unavailable("Storage cannot be reached"),
        },
        Extensions = { [Pageable] = NextLinkPaging() },
    });

    private static OpenApiOperation UntrackTag() => Secured(new OpenApiOperation
    {
        OperationId = Operations.UntrackTag,
        Summary = "Stop tracking a tag",
        Description = "The scheduled refresh leaves the tag alone from now on. Stored data is kept.",
        Parameters = [TagParameter()],
        Responses = new OpenApiResponses
        {
            ["204"] = new OpenApiResponse { Description = "No longer tracked" },
            ["400"] = Problem("The tag breaks a rule"),
            ["401"] = Unauthorized(),
            ["404"] = Problem("The tag is not tracked"),
            ["503"] = Unavailable("Storage cannot be reached"),
        },
    });

    private static OpenApiOperation GetTagCompletion() => Secured(new OpenApiOperation
    {
        OperationId = Operations.GetTagCompletion,
        Summary = "Wait for a tag's delivery to settle",
        Description =
            "The asynchronous request-reply pattern: 202 with Location (this URL) and Retry-After (seconds until the tag's next "
            + "refresh) while the tag is pending; 200 with the summary once it is complete or expired.",
        Parameters = [TagParameter()],
        Responses = new OpenApiResponses
        {
            ["200"] = new OpenApiResponse { Description = "Settled: complete or expired", Content = JsonContent(Ref(Schemas.TagSummary)) },
            ["202"] = new OpenApiResponse
            {
                Description = "Still pending (with no body when nothing is stored yet and a lookup queued the tag's first read); poll Location after Retry-After seconds",
                Content = JsonContent(Ref(Schemas.TagSummary)),
                Headers = PollingHeaders(),
            },
            ["400"] = Problem("The tag breaks a rule"),
            ["401"] = Unauthorized(),
            ["404"] = Problem("Nothing is known of the tag: register it first"),
            ["503"] = Unavailable("Storage cannot be reached"),
        },
    });

    private static OpenApiOperation SubscribeToTag() => Secured(new OpenApiOperation
    {
        OperationId = Operations.SubscribeToTag,
        Summary = "When a tag's delivery changes state",
        Description =
            "Registers a webhook: the tag is tracked, and each change of state it asks for (events: tag.completed, tag.expired, tag.changed, tag.reopened, recipient.optedOut; "
            + "the four tag events when left out) is POSTed to the callback URL, signed the Standard Webhooks way (webhook-id, webhook-timestamp, webhook-signature) "
            + "with the secret returned here, once. Answers 201 with Location; DELETE on it unsubscribes.",
        Parameters = [TagParameter()],
        RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = "Where to POST the events (filled in by Power Automate and Logic Apps) and which events",
            Content = new Dictionary<string, OpenApiMediaType> { [Json] = new() { Schema = Ref(Schemas.SubscribeRequest) } },
            Extensions = { [BodyName] = new OpenApiString("body") },
        },
        Responses = SubscribeResponses("The tag breaks a rule, an event type is unknown, or the callback URL is not https or points at a private address"),
        Extensions =
        {
            [Trigger] = new OpenApiString("single"),
            [TriggerHint] = new OpenApiString("Fires when the tag's delivery is complete, expires, reopens, or its counts move while pending."),
        },
    });

    private static OpenApiOperation UnsubscribeFromTag() => Secured(new OpenApiOperation
    {
        OperationId = Operations.UnsubscribeFromTag,
        Summary = "Remove a subscription",
        Description = "Called by Power Automate and Logic Apps through the Location the subscription returned, when the trigger is removed. 204 also when it is already gone.",
        Parameters = [TagParameter(), SubscriptionIdParameter()],
        Responses = new OpenApiResponses
        {
            ["204"] = new OpenApiResponse { Description = "Unsubscribed, or there was no such subscription" },
            ["400"] = Problem("The tag or the id breaks a rule"),
            ["401"] = Unauthorized(),
            ["503"] = Unavailable("Storage cannot be reached"),
        },
    }).WithVisibility(Internal);

    private static OpenApiOperation SubscribeToAnyTag() => Secured(new OpenApiOperation
    {
        OperationId = Operations.SubscribeToAnyTag,
        Summary = "When a campaign settles",
        Description =
            "Registers a webhook for every tag (or every tag that starts with tagPrefix): each event it asks for (events; the four tag events when left out) "
            + "is POSTed to the callback URL, signed the Standard Webhooks way with the secret returned here, once. Tags are not tracked by this: "
            + "register them (POST /api/tags) as campaigns are sent. Answers 201 with Location; DELETE on it unsubscribes.",
        RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = "Where to POST the events (filled in by Power Automate and Logic Apps), which events, which tags",
            Content = new Dictionary<string, OpenApiMediaType> { [Json] = new() { Schema = Ref(Schemas.AnyTagSubscribeRequest) } },
            Extensions = { [BodyName] = new OpenApiString("body") },
        },
        Responses = SubscribeResponses("An event type is unknown, the tag prefix is too long, or the callback URL is not https or points at a private address"),
        Extensions =
        {
            [Trigger] = new OpenApiString("single"),
            [TriggerHint] = new OpenApiString("Fires when any campaign's delivery settles (or whichever events you choose), for every tag or those with a prefix."),
        },
    });

    private static OpenApiOperation UnsubscribeFromAnyTag() => Secured(new OpenApiOperation
    {
        OperationId = Operations.UnsubscribeFromAnyTag,
        Summary = "Remove a subscription to any tag",
        Description = "Called by Power Automate and Logic Apps through the Location the subscription returned. 204 also when it is already gone.",
        Parameters = [SubscriptionIdParameter()],
        Responses = new OpenApiResponses
        {
            ["204"] = new OpenApiResponse { Description = "Unsubscribed, or there was no such subscription" },
            ["400"] = Problem("The id breaks a rule"),
            ["401"] = Unauthorized(),
            ["503"] = Unavailable("Storage cannot be reached"),
        },
    }).WithVisibility(Internal);

    private static OpenApiOperation RotateSecret(string operationId, bool forTag) => Secured(new OpenApiOperation
    {
        OperationId = operationId,
        Summary = forTag ? "Rotate the secret of a tag's subscription" : "Rotate the secret of a subscription to any tag",
        Description =
            "Returns a new whsec_ secret, once. Until previousSecretValidUntil (Callbacks:SecretRotationOverlap after now) each event carries two "
            + "v1 signatures, one with each secret, so the receiver can switch at any moment in between.",
        Parameters = forTag ? [TagParameter(), SubscriptionIdParameter()] : [SubscriptionIdParameter()],
        Responses = new OpenApiResponses
        {
            ["200"] = new OpenApiResponse { Description = "The new secret", Content = JsonContent(Ref(Schemas.RotatedSecret)) },
            ["400"] = Problem("The tag or the id breaks a rule"),
            ["401"] = Unauthorized(),
            ["404"] = Problem("There is no such subscription"),
            ["409"] = Problem("The subscription was rotated by another request at the same moment"),
            ["503"] = Unavailable("Storage or the signing key cannot be reached"),
        },
    }).WithVisibility(Internal);

    private static OpenApiOperation ListDeadLetters() => Secured(new OpenApiOperation
    {
        OperationId = Operations.ListDeadLetters,
        Summary = "List the events receivers refused or never took",
        Description = "Deliveries a receiver answered 400 or 413 to (reason refused), or whose every attempt failed (reason exhausted): kept until an "
            + "operator replays or deletes them, or Callbacks__DeadLetterDays passes. Oldest first, after any kept by earlier versions.",
        Parameters =
        [
            IntegerQuery("top", "Page Size", "At most this many dead letters", 1, 100, 50),
            new OpenApiParameter
            {
                Name = "continuationToken",
                In = ParameterLocation.Query,
                Description = "The continuationToken of the previous page",
                Schema = new OpenApiSchema { Type = "string" },
            }.WithSummary("Continuation Token"),
        ],
        Responses = new OpenApiResponses
        {
            ["200"] = new OpenApiResponse { Description = "One page of dead letters", Content = JsonContent(Ref(Schemas.DeadLetterList)) },
            ["400"] = Problem("A query parameter breaks a rule"),
            ["401"] = Unauthorized(),
            ["503"] = Unavailable("Storage cannot be reached"),
        },
    }).WithVisibility(Internal);

    private static OpenApiParameter DeadLetterIdParameter() => new OpenApiParameter
    {
        Name = "id",
        In = ParameterLocation.Path,
        Required = true,
        Description = "The dead letter's id, as the listing gives it.",
        Schema = new OpenApiSchema { Type = "string", Pattern = "^(t[0-9]{19}\\.)?[0-9a-f]{32}\\.[0-9a-f]{32}$" },
    }.WithSummary("Dead Letter ID");

    private static OpenApiOperation DeleteDeadLetter() => Secured(new OpenApiOperation
    {
        OperationId = Operations.DeleteDeadLetter,
        Summary = "Delete a dead letter",
        Description = "Forgets an event the receiver will never take. 204 also when it is already gone.",
        Parameters = [DeadLetterIdParameter()],
        Responses = new OpenApiResponses
        {
            ["204"] = new OpenApiResponse { Description = "Deleted, or there was no such dead letter" },
            ["400"] = Problem("The id breaks a rule"),
            ["401"] = Unauthorized(),
            ["503"] = Unavailable("Storage cannot be reached"),
        },
    }).WithVisibility(Internal);

    private static OpenApiOperation ReplayDeadLetter() => Secured(new OpenApiOperation
    {
        OperationId = Operations.ReplayDeadLetter,
        Summary = "Send a dead letter again",
        Description = "Puts the event back in the outbox as a first attempt, with the same webhook-id and body, and removes it from the dead letters.",
        Parameters = [DeadLetterIdParameter()],
        Responses = new OpenApiResponses
        {
            ["202"] = new OpenApiResponse { Description = "Queued for delivery" },
            ["400"] = Problem("The id breaks a rule"),
            ["401"] = Unauthorized(),
            ["404"] = Problem("There is no such dead letter (already replayed?)"),
            ["503"] = Unavailable("Storage cannot be reached"),
        },
    }).WithVisibility(Internal);

    private static OpenApiOperation GetHealth() => Secured(new OpenApiOperation
    {
        OperationId = Operations.GetHealth,
        Summary = "Get the refresh backlog and the queue lengths",
        Description =
            "For operators: how many tracked tags are due for a refresh and how late the oldest is, and the messages waiting in "
            + "each work queue and poison queue. The same numbers are exported as metrics (see the README).",
        Responses = new OpenApiResponses
        {
            ["200"] = new OpenApiResponse { Description = "The numbers now", Content = JsonContent(Ref(Schemas.Health)) },
            ["401"] = Unauthorized(),
            ["503"] = Unavailable("Storage cannot be reached"),
        },
    }).WithVisibility(Internal);

    private static OpenApiResponses SubscribeResponses(string badRequest) => new()
    {
        ["201"] = new OpenApiResponse
        {
            Description = "Subscribed; DELETE Location to unsubscribe. The secret is shown this once.",
            Content = JsonContent(Ref(Schemas.Subscription)),
            Headers = new Dictionary<string, OpenApiHeader>
            {
                ["Location"] = StringHeader("The subscription's URL: DELETE it to unsubscribe"),
            },
        },
        ["400"] = Problem(badRequest),
        ["401"] = Unauthorized(),
        ["413"] = Problem("The body is larger than 16 KiB"),
        ["503"] = Unavailable("Storage or the signing key cannot be reached"),
    };

    private static OpenApiObject EventNotification(string description) => new()
    {
        ["description"] = new OpenApiString(description),
        ["schema"] = new OpenApiObject { ["$ref"] = new OpenApiString("#/definitions/" + Schemas.TagEvent) },
    };

    private static OpenApiParameter SubscriptionIdParameter() => new OpenApiParameter
    {
        Name = "id",
        In = ParameterLocation.Path,
        Required = true,
        Description = "The subscription id: 32 lowercase hexadecimal characters.",
        Schema = new OpenApiSchema { Type = "string", Pattern = "^[0-9a-f]{32}$", MinLength = 32, MaxLength = 32 },
    }.WithSummary("Subscription ID");

    /// <summary>Anonymous, so no security requirement: a connector import fetches it without a key.</summary>
    private static OpenApiOperation GetOpenApiDocument() => new OpenApiOperation
    {
        OperationId = Operations.GetOpenApiDocument,
        Summary = "Get this OpenAPI document",
        Description = "The Swagger 2.0 document of the API, pointing at the host it was fetched from. Anonymous.",
        Responses = new OpenApiResponses
        {
            ["200"] = new OpenApiResponse { Description = "The document", Content = JsonContent(new OpenApiSchema { Type = "object" }) },
        },
    }.WithVisibility(Internal);

    private static Dictionary<string, OpenApiSchema> BuildSchemas()
    {
        return new Dictionary<string, OpenApiSchema>
        {
            [Schemas.Recipient] = Object(
                "One message sent under the tag; a number sent to twice is two rows",
                ("phoneNumber", String("Phone Number", "The recipient's number"), true),
                ("status", String("Status", "delivered, notDelivered, waiting or unknown", StatusEnum()), true),
                ("stopSms", Boolean("STOP SMS", "True when the recipient answered STOP"), true),
                ("statusAt", DateTime("Status At", "When the status was reported (UTC)", nullable: true), false)),

            [Schemas.TagSummary] = Object("A tag's summary, without recipients", SummaryProperties(withRecipients: false)),

            [Schemas.TagDetail] = Object("A tag with one page of its recipients", SummaryProperties(withRecipients: true)),

            [Schemas.TagList] = Object(
                "One page of tracked tags",
                ("value", new OpenApiSchema { Type = "array", Items = Ref(Schemas.TagSummary), Description = "The tags, newest first" }.WithSummary("Tags"), true),
                ("nextLink", Nullable(String("Next Link", "The absolute URL of the next page, or null on the last")), false)),

            [Schemas.RecipientList] = Object(
                "One page of a tag's recipients",
                ("value", new OpenApiSchema { Type = "array", Items = Ref(Schemas.Recipient), Description = "The recipients matching the filter" }.WithSummary("Recipients"), true),
                ("nextLink", Nullable(String("Next Link", "The absolute URL of the next page, or null on the last")), false)),

            [Schemas.RegisterTagRequest] = Object(
                "The tag to track",
                ("tag", TagSchema(), true)),

            [Schemas.SubscribeRequest] = Object(
                "Where to POST the tag's events, and which",
                CallbackUrlProperty(),
                EventsProperty()),

            [Schemas.AnyTagSubscribeRequest] = Object(
                "Where to POST the events of any tag, which events, and which tags",
                CallbackUrlProperty(),
                EventsProperty(),
                ("tagPrefix", new OpenApiSchema
                {
                    Type = "string",
                    MinLength = 1,
                    MaxLength = Tag.MaxLength,
                    Description = "Only tags that start with this; every tag when left out",
                }.WithSummary("Tag Prefix"), false)),

            [Schemas.Subscription] = Object(
                "A subscription to a tag's events, or to any tag's",
                ("id", String("Subscription ID", "32 lowercase hexadecimal characters"), true),
                ("tag", Nullable(String("Tag", "The tag subscribed to, or null for a subscription to any tag")), true),
                ("callbackUrl", String("Callback URL", "Where the events are POSTed"), true),
                ("events", EventsSchema("The event types sent"), true),
                ("tagPrefix", String("Tag Prefix", "Only tags that start with this (subscriptions to any tag)"), false),
                ("createdAt", DateTime("Created At", "When the subscription was made (UTC)"), true),
                ("secret", String("Secret", "The whsec_ secret to verify the events' webhook-signature with (Standard Webhooks). Shown only here: keep it.").WithVisibility(Internal), true)),

            [Schemas.RotatedSecret] = Object(
                "A subscription's new secret",
                ("secret", String("Secret", "The new whsec_ secret. Shown only here: keep it."), true),
                ("previousSecretValidUntil", DateTime("Previous Secret Valid Until", "Until then each event is signed with both secrets"), true)),

            [Schemas.DeadLetter] = Object(
                "An event a receiver refused (400 or 413) or never took (every attempt failed), kept for replay",
                ("id", String("Dead Letter ID", "t and the UTC ticks it was kept at, a dot, the event id, a dot, the subscription id (the event id, a dot, the subscription id when kept by earlier versions)"), true),
                ("tag", String("Tag", "The tag of the event"), true),
                ("eventId", String("Event ID", "The event's id (webhook-id)"), true),
                ("eventType", String("Event Type", "The event's type"), true),
                ("subscriptionId", String("Subscription ID", "The subscription it was for"), true),
                ("callbackTarget", String("Callback Target", "Scheme, host and path of the callback URL (its query is left out: it may hold a signature)"), true),
                ("status", Nullable(Integer("Status", "The receiver's last answer, or null when the last attempt got none")), true),
                ("attempts", Integer("Attempts", "Attempts made"), true),
                ("deadLetteredAt", DateTime("Dead Lettered At", "When it was kept"), true),
                ("reason", String("Reason", "refused (the receiver answered 400 or 413) or exhausted (every attempt failed)",
                    [.. DeadLetterReasons.All.Select(r => (IOpenApiAny)new OpenApiString(r))]), true)),

            [Schemas.DeadLetterList] = Object(
                "One page of dead letters",
                ("value", new OpenApiSchema { Type = "array", Items = Ref(Schemas.DeadLetter), Description = "The dead letters" }.WithSummary("Dead Letters"), true),
                ("continuationToken", Nullable(String("Continuation Token", "Pass it back for the next page; null on the last")), true)),

            [Schemas.TagEvent] = Object(
                "The event POSTed to a subscriber, with the Standard Webhooks headers webhook-id (the body's id), webhook-timestamp (Unix seconds) and "
                + "webhook-signature (v1,<base64 HMAC-SHA256 of id.timestamp.body>, keyed with the subscription's secret; two during a rotation)",
                ("id", String("Event ID", "Unique per event; delivery is at least once, so deduplicate on it"), true),
                ("type", String("Event Type", "tag.completed, tag.expired, tag.changed, tag.reopened (a settled tag read again found new messages: it is pending again, with a new window), "
                    + "or recipient.optedOut (recipients' stopSms turned true: one event per change of the tag, listing the numbers)",
                    [.. TagEvent.Types.Select(t => (IOpenApiAny)new OpenApiString(t))]), true),
                ("tag", String("Tag", "The tag"), true),
                ("occurredAt", DateTime("Occurred At", "When the change was seen"), true),
                ("data", Object(
                    "The tag after the change",
                    ("state", String("State", "pending, complete or expired", StateEnum()), true),
                    ("counts", CountsSchema().WithSummary("Counts"), true),
                    ("phoneNumbers", new OpenApiSchema
                    {
                        Type = "array",
                        MaxItems = TagEvent.MaxOptedOutNumbers,
                        Description = $"recipient.optedOut only: the numbers that opted out in this change (at most {TagEvent.MaxOptedOutNumbers}, in ordinal order)",
                        Items = String("Phone Number", "A number that opted out"),
                    }.WithSummary("Phone Numbers"), false),
                    ("unlisted", Integer("Unlisted", "recipient.optedOut only: opted-out recipients of this change that phoneNumbers does not list (beyond its cap, or "
                        + "left by an interrupted save); page the tag's recipients and read stopSms to find them"), false)).WithSummary("Data"), true)),

            [Schemas.Health] = Object(
                "The refresh backlog and the work queues, read now",
                ("observedAt", DateTime("Observed At", "When the numbers were read (UTC)"), true),
                ("dueTags", Integer("Due Tags", "Tracked tags whose refresh is due, counted up to Tracking__MaxClaimsPerRun"), true),
                ("dueTagsCapped", Boolean("Due Tags Capped", "True when more tags may be due than dueTags says"), true),
                ("oldestDueLatenessSeconds", new OpenApiSchema { Type = "number", Format = "double", Minimum = 0, Description = "How late the oldest due refresh is, in seconds; 0 when none is due" }.WithSummary("Oldest Due Lateness"), true),
                ("queues", new OpenApiSchema
                {
                    Type = "array",
                    Description = "The refresh and callbacks queues and their poison queues",
                    Items = Object(
                        "Messages waiting in one queue",
                        ("name", String("Queue", "The queue's name"), true),
                        ("messages", Integer("Messages", "Approximate messages in the queue"), true)),
                }.WithSummary("Queues"), true)),

            [Schemas.Problem] = Object(
                "An RFC 9457 problem document (application/problem+json)",
                ("type", String("Problem Type", "A URN naming the kind of problem, e.g. urn:tag-status:problem:invalid-request"), true),
                ("title", String("Title", "A short summary of the kind of problem"), true),
                ("status", Integer("Status", "The HTTP status code"), true),
                ("detail", String("Detail", "What went wrong with this request"), true),
                ("upstreamCode", Integer("SMS Partner Code", "SMS Partner's numeric error code, when the error came from there"), false),
                ("parameter", String("Parameter", "The parameter or body field at fault, for 400"), false)),
        };
    }

    private static (string, OpenApiSchema, bool) CallbackUrlProperty() =>
        ("callbackUrl", String("Callback URL", "An https URL that receives the events")
            .WithVisibility(Internal)
            .With(s => s.Extensions[NotificationUrl] = new OpenApiBoolean(true)), true);

    private static (string, OpenApiSchema, bool) EventsProperty() =>
        ("events", EventsSchema("The event types to send; when left out, the tag's state events (every type but recipient.optedOut)"), false);

    private static OpenApiSchema EventsSchema(string description) => new OpenApiSchema
    {
        Type = "array",
        Description = description,
        Items = String("Event Type", "An event type", [.. TagEvent.Types.Select(t => (IOpenApiAny)new OpenApiString(t))]),
    }.WithSummary("Events");

    private static (string, OpenApiSchema, bool)[] SummaryProperties(bool withRecipients)
    {
        List<(string, OpenApiSchema, bool)> properties =
        [
            ("tag", String("Tag", "The SMS Partner tag"), true),
            ("state", String("State", "pending (not settled yet), complete (a full read of SMS Partner showed every message final) or expired (the tracking window closed first)", StateEnum()), true),
            ("tracked", Boolean("Tracked", "True while the scheduled refresh keeps the tag up to date"), true),
            ("counts", CountsSchema().WithSummary("Counts"), true),
            ("deliveryRate", Nullable(new OpenApiSchema { Type = "number", Format = "double", Minimum = 0, Maximum = 1, Description = "Delivered over total, 0 to 1; null while nothing is known" }.WithSummary("Delivery Rate")), true),
            ("firstSeenAt", DateTime("First Seen At", "When the tag was first seen; the tracking window starts here, or when the tag last reopened"), true),
            ("refreshedAt", DateTime("Refreshed At", "When SMS Partner was last read for the tag"), true),
            ("completedAt", DateTime("Completed At", "When a full read of SMS Partner first found every message final, or null", nullable: true), true),
            ("nextRefreshAt", DateTime("Next Refresh At", "When the scheduled refresh will next read the tag (for a settled tag, its re-check), or null when it will not", nullable: true), true),
            ("source", String("Source", "live when this request read SMS Partner, store otherwise", [new OpenApiString("live"), new OpenApiString("store")]), true),
            ("stale", Boolean("Stale", "True when SMS Partner could not be read and stored data was served instead"), true),
            ("upstreamTotal", Nullable(Integer("Upstream Total", "The number of messages SMS Partner announced on the last read, or null when it announced none")), true),
            ("partial", Boolean("Partial", "True when the last read of SMS Partner did not get every message it announced (or announced no total): the counts may miss messages, and the tag cannot complete on such a read"), true),
            ("partialReason", Nullable(String("Partial Reason", "Why the last read was partial, or null")), true),
        ];
        if (withRecipients)
        {
            properties.Insert(0, ("refreshing", Boolean("Refreshing", "True when the tag is being read from SMS Partner by another request (or its refresh is queued, for a big tag) and this is what is stored meanwhile"), true));
            properties.Add(("recipients", new OpenApiSchema { Type = "array", Items = Ref(Schemas.Recipient), Description = "One page of the recipients matching the filter" }.WithSummary("Recipients"), true));
            properties.Add(("nextLink", Nullable(String("Next Link", "The absolute URL of the next page of recipients, or null on the last")), true));
        }

        return [.. properties];
    }

    private static OpenApiOperation Secured(OpenApiOperation operation)
    {
        operation.Security =
        [
            new OpenApiSecurityRequirement
            {
                [new OpenApiSecurityScheme { Reference = new OpenApiReference { Type = ReferenceType.SecurityScheme, Id = SecuritySchemeName } }] = [],
            },
        ];
        return operation;
    }

    /// <summary>
    /// Written inline where a property uses it, not under <c>definitions</c>: the designer drops a property's
    /// <c>x-ms-summary</c> beside a <c>$ref</c>, so the counts would have no title.
    /// </summary>
    private static OpenApiSchema CountsSchema() => Object(
        "Counts over every recipient of the tag, whatever the filter and page",
        ("total", Integer("Total", "Every message read under the tag (compare upstreamTotal, what SMS Partner announced)"), true),
        ("delivered", Integer("Delivered", "Messages delivered"), true),
        ("notDelivered", Integer("Not Delivered", "Messages that will not be delivered"), true),
        ("waiting", Integer("Waiting", "Messages with no delivery report yet"), true),
        ("unknown", Integer("Unknown", "Messages in a status the API does not recognise"), true),
        ("optedOut", Integer("Opted Out", "Messages whose recipient opted out (stopSms true), whatever their status; left out for a tag not read again since this was counted"), false));

    private static OpenApiParameter TagParameter() => new OpenApiParameter
    {
        Name = "tag",
        In = ParameterLocation.Path,
        Required = true,
        Description = $"The SMS Partner tag the messages were sent with: 1 to {Tag.MaxLength} characters, lowercase, no spaces.",
        Schema = new OpenApiSchema { Type = "string", MinLength = 1, MaxLength = Tag.MaxLength },
        // A dropdown of the tracked tags in the designer; a maker can still type any tag.
        Extensions = { [DynamicValues] = new OpenApiObject
        {
            ["operationId"] = new OpenApiString(Operations.ListTags),
            ["value-collection"] = new OpenApiString("value"),
            ["value-path"] = new OpenApiString("tag"),
            ["value-title"] = new OpenApiString("tag"),
        } },
    }.WithSummary("Tag").WithVisibility(Important);

    private static OpenApiSchema TagSchema() =>
        new OpenApiSchema
        {
            Type = "string",
            MinLength = 1,
            MaxLength = Tag.MaxLength,
            Description = $"The SMS Partner tag: 1 to {Tag.MaxLength} characters, lowercase, no spaces",
        }.WithSummary("Tag");

    private static OpenApiParameter Query(string name, string type, string summary, string description) => new OpenApiParameter
    {
        Name = name,
        In = ParameterLocation.Query,
        Description = description,
        Schema = new OpenApiSchema { Type = type },
    }.WithSummary(summary);

    private static OpenApiParameter IntegerQuery(string name, string summary, string description, int min, int max, int? fallback) => new OpenApiParameter
    {
        Name = name,
        In = ParameterLocation.Query,
        Description = description,
        Schema = new OpenApiSchema
        {
            Type = "integer",
            Format = "int32",
            Minimum = min,
            Maximum = max,
            Default = fallback is { } value ? new OpenApiInteger(value) : null,
        },
    }.WithSummary(summary);

    private static OpenApiObject NextLinkPaging() => new() { ["nextLinkName"] = new OpenApiString("nextLink") };

    private static Dictionary<string, OpenApiHeader> PollingHeaders() => new()
    {
        ["Location"] = StringHeader("The tag's completion URL, to poll"),
        ["Retry-After"] = new OpenApiHeader
        {
            Description = "Seconds to wait before polling Location",
            Schema = new OpenApiSchema { Type = "integer", Format = "int32" },
        },
    };

    private static OpenApiHeader StringHeader(string description) =>
        new() { Description = description, Schema = new OpenApiSchema { Type = "string" } };

    private static Dictionary<string, OpenApiMediaType> JsonContent(OpenApiSchema schema) => new() { [Json] = new OpenApiMediaType { Schema = schema } };

    private static OpenApiResponse Problem(string description) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType> { [ProblemJson] = new() { Schema = Ref(Schemas.Problem) } },
    };

    private static OpenApiResponse Unavailable(string description)
    {
        var response = Problem(description);
        response.Headers = new Dictionary<string, OpenApiHeader>
        {
            ["Retry-After"] = new OpenApiHeader { Description = "Seconds to wait before trying again", Schema = new OpenApiSchema { Type = "integer", Format = "int32" } },
        };
        return response;
    }

    private static OpenApiResponse Unauthorized() => new() { Description = "The function key is missing or wrong" };

    private static OpenApiParameter ContinuationTokenQuery() => new OpenApiParameter
    {
        Name = "continuationToken",
        In = ParameterLocation.Query,
        Description = "Where the previous page ended; taken from nextLink, never built by hand.",
        Schema = new OpenApiSchema { Type = "string" },
    }.WithSummary("Continuation Token").WithVisibility(Advanced);

    private static OpenApiSchema Ref(string id) => new() { Reference = new OpenApiReference { Type = ReferenceType.Schema, Id = id } };

    private static OpenApiSchema Object(string description, params (string Name, OpenApiSchema Schema, bool Required)[] properties) => new()
    {
        Type = "object",
        Description = description,
        Properties = properties.ToDictionary(p => p.Name, p => p.Schema),
        Required = properties.Where(p => p.Required).Select(p => p.Name).ToHashSet(),
    };

    private static OpenApiSchema String(string summary, string description, IList<IOpenApiAny>? values = null) =>
        new OpenApiSchema { Type = "string", Description = description, Enum = values ?? [] }.WithSummary(summary);

    private static OpenApiSchema Integer(string summary, string description) =>
        new OpenApiSchema { Type = "integer", Format = "int32", Description = description }.WithSummary(summary);

    private static OpenApiSchema Boolean(string summary, string description) =>
        new OpenApiSchema { Type = "boolean", Description = description }.WithSummary(summary);

    private static OpenApiSchema DateTime(string summary, string description, bool nullable = false)
    {
        var schema = new OpenApiSchema { Type = "string", Format = "date-time", Description = description }.WithSummary(summary);
        return nullable ? Nullable(schema) : schema;
    }

    /// <summary>OpenAPI.NET drops <c>nullable</c> when it writes Swagger 2.0; connectors read <c>x-nullable</c>.</summary>
    private static OpenApiSchema Nullable(OpenApiSchema schema)
    {
        schema.Extensions[ConnectorExtensions.Nullable] = new OpenApiBoolean(true);
        return schema;
    }

    private static OpenApiSchema With(this OpenApiSchema schema, Action<OpenApiSchema> change)
    {
        change(schema);
        return schema;
    }

    private static List<IOpenApiAny> StateEnum() =>
        [.. Enum.GetValues<TagState>().Select(s => (IOpenApiAny)new OpenApiString(s.ToApiName()))];

    private static List<IOpenApiAny> StatusEnum() =>
        [.. DeliveryStatuses.All.Select(s => (IOpenApiAny)new OpenApiString(s.ToApiName()))];
}
