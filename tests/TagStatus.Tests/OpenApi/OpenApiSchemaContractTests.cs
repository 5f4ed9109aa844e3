using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TagStatus.Api.Contracts;
using TagStatus.Api.OpenApi;
using TagStatus.Core.Callbacks;
using Schemas = TagStatus.Api.OpenApi.TagStatusOpenApiDocument.Schemas;

namespace TagStatus.Tests.OpenApi;

/// <summary>
/// The document's schemas against the JSON the handlers actually write (the <see cref="ApiJsonContext"/> contracts and
/// the callback event): same property names, required ones present, nulls only where <c>x-nullable</c>, enum values
/// allowed. A field added to a contract without the document (or the reverse) fails here.
/// </summary>
public sealed class OpenApiSchemaContractTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);

    private readonly ServedDocument _served = ServedDocument.For();

    public static TheoryData<string, string> Samples()
    {
        var counts = new CountsDto(2, 1, 0, 1, 0) { OptedOut = 1 };
        var full = new TagResponse("montag", "pending", true, counts, 0.5, At, At, At, At, "live", false, 2, false, null);
        var empty = new TagResponse("montag", "pending", false, new CountsDto(0, 0, 0, 0, 0), null, At, At, null, null, "store", true, null, true, "SMS Partner announced no total, so the 0 rows read cannot be known to be all of them.");
        RecipientDto[] recipients = [new("+33600000001", "delivered", false, At), new("+33600000002", "waiting", true, null)];
        return new TheoryData<string, string>
        {
            { Schemas.TagSummary, Write(full, ApiJsonContext.Api.TagResponse) },
            { Schemas.TagSummary, Write(empty, ApiJsonContext.Api.TagResponse) },
            {
                Schemas.TagDetail,
                Write(new TagDetailResponse(new TagResponse("montag", "pending", true, counts, 0.5, At, At, null, At, "live", false, 25, true, "SMS Partner ignored the page parameter: 20 distinct rows read of 25 announced."), recipients, "https://h/api/tags/montag?page=2"), ApiJsonContext.Api.TagDetailResponse)
            },
            {
                Schemas.TagDetail,
                Write(new TagDetailResponse(new TagResponse("montag", "complete", true, counts, 1, At, At, At, null, "store", false, 2, false, null), [], null), ApiJsonContext.Api.TagDetailResponse)
            },
            { Schemas.TagList, Write(new TagListResponse([full, empty], "https://h/api/tags?continuationToken=x"), ApiJsonContext.Api.TagListResponse) },
            { Schemas.TagList, Write(new TagListResponse([], null), ApiJsonContext.Api.TagListResponse) },
            { Schemas.RecipientList, Write(new RecipientListResponse(recipients, "https://h/api/tags/montag/recipients?continuationToken=x"), ApiJsonContext.Api.RecipientListResponse) },
            { Schemas.RecipientList, Write(new RecipientListResponse([], null), ApiJsonContext.Api.RecipientListResponse) },
            { Schemas.RegisterTagRequest, Write(new RegisterTagRequest("montag"), ApiJsonContext.Api.RegisterTagRequest) },
            { Schemas.SubscribeRequest, Write(new SubscribeRequest("https://example.net/hook"), ApiJsonContext.Api.SubscribeRequest) },
            { Schemas.SubscribeRequest, Write(new SubscribeRequest("https://example.net/hook", ["tag.completed", "tag.expired"]), ApiJsonContext.Api.SubscribeRequest) },
            { Schemas.AnyTagSubscribeRequest, Write(new SubscribeRequest("https://example.net/hook", ["tag.completed"], "promo-"), ApiJsonContext.Api.SubscribeRequest) },
            { Schemas.Subscription, Write(new SubscriptionResponse(new string('c', 32), null, "https://example.net/hook", TagEvent.Types, "promo-", At, "whsec_c2VjcmV0"), ApiJsonContext.Api.SubscriptionResponse) },
            { Schemas.RotatedSecret, Write(new SecretResponse("whsec_c2VjcmV0", At), ApiJsonContext.Api.SecretResponse) },
            {
                Schemas.DeadLetterList,
                Write(new DeadLetterListResponse([new DeadLetterDto(new string('b', 32) + "." + new string('c', 32), "montag", new string('b', 32), "tag.completed", new string('c', 32), "https://example.net/hook", 400, 3, At, "refused"), new DeadLetterDto("t0639000000000000000." + new string('b', 32) + "." + new string('c', 32), "montag", new string('b', 32), "recipient.optedOut", new string('c', 32), "https://example.net/hook", null, 12, At, "exhausted")], "tok"), ApiJsonContext.Api.DeadLetterListResponse)
            },
            { Schemas.Subscription, Write(new SubscriptionResponse(new string('a', 32), "montag", "https://example.net/hook", ["tag.completed"], null, At, "whsec_c2VjcmV0"), ApiJsonContext.Api.SubscriptionResponse) },
            { Schemas.Health, Write(new HealthResponse(At, 3, false, 42.5, [new("tagstatus-refresh", 2), new("tagstatus-refresh-poison", 0)]), ApiJsonContext.Api.HealthResponse) },
            { Schemas.Problem, Write(new ProblemDocument("urn:tag-status:problem:upstream-failed", "t", 502, "d", UpstreamCode: 10), ApiJsonContext.Api.ProblemDocument) },
            { Schemas.Problem, Write(new ProblemDocument("urn:tag-status:problem:invalid-request", "t", 400, "d", Parameter: "tag"), ApiJsonContext.Api.ProblemDocument) },
            {
                Schemas.TagEvent,
                Encoding(new TagEvent(new string('b', 32), TagEvent.Completed, "montag", At, new TagEventData("complete", new TagEventCounts(2, 2, 0, 0, 0))).ToUtf8Json())
            },
            {
                Schemas.TagEvent,
                Encoding(new TagEvent(new string('c', 32), TagEvent.Reopened, "montag", At, new TagEventData("pending", new TagEventCounts(4, 2, 0, 2, 0))).ToUtf8Json())
            },
            {
                Schemas.TagEvent,
                Encoding(new TagEvent(new string('d', 32), TagEvent.OptedOut, "montag", At, new TagEventData("pending", new TagEventCounts(4, 2, 0, 2, 0) { OptedOut = 2 })
                {
                    PhoneNumbers = ["+33600000001", "+33600000002"],
                    Unlisted = 0,
                }).ToUtf8Json())
            },
        };
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Schema_describes_the_json_written(string schemaName, string json)
    {
        Check(JsonNode.Parse(json), _served.Definition(schemaName), schemaName);
    }

    [Theory]
    [InlineData(Schemas.TagSummary)]
    [InlineData(Schemas.TagDetail)]
    [InlineData(Schemas.TagList)]
    [InlineData(Schemas.RecipientList)]
    [InlineData(Schemas.Subscription)]
    [InlineData(Schemas.Problem)]
    [InlineData(Schemas.Health)]
    [InlineData(Schemas.TagEvent)]
    [InlineData(Schemas.Recipient)]
    public void Every_described_property_is_written_by_some_sample(string schemaName)
    {
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var sample in Samples())
        {
            Collect(JsonNode.Parse((string)sample[1]), _served.Definition((string)sample[0]), written, (string)sample[0]);
        }

        var described = _served.Definition(schemaName)["properties"]!.AsObject().Select(p => $"{schemaName}.{p.Key}");
        Assert.All(described, name => Assert.Contains(name, written));
    }

    private void Check(JsonNode? value, JsonObject schema, string path)
    {
        schema = Resolve(schema, out var name);
        path = name ?? path;
        if (value is null)
        {
            Assert.True(schema["x-nullable"]?.GetValue<bool>() == true, $"{path} is written as null but its schema has no x-nullable.");
            return;
        }

        switch (ServedDocument.Text(schema["type"]))
        {
            case "object":
                var properties = schema["properties"]!.AsObject();
                var written = value.AsObject();
                foreach (var (key, child) in written)
                {
                    Assert.True(properties.ContainsKey(key), $"{path}.{key} is written but not described.");
                    Check(child, properties[key]!.AsObject(), $"{path}.{key}");
                }

                foreach (var required in schema["required"]?.AsArray() ?? [])
                {
                    Assert.True(written.ContainsKey(required!.GetValue<string>()), $"{path}.{required} is required but not written.");
                }

                break;
            case "array":
                foreach (var item in value.AsArray())
                {
                    Check(item, schema["items"]!.AsObject(), path + "[]");
                }

                break;
            case "string":
                var text = value.GetValue<string>();
                if (ServedDocument.Text(schema["format"]) == "date-time")
                {
                    Assert.True(DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, out _), $"{path}: '{text}' is not a date-time.");
                }

                if (schema["enum"] is JsonArray values && values.Count > 0)
                {
                    Assert.Contains(text, values.Select(v => v!.GetValue<string>()));
                }

                break;
            case "integer":
                Assert.Equal(JsonValueKind.Number, value.GetValueKind());
                Assert.True(value.AsValue().TryGetValue<long>(out _), $"{path}: {value} is not an integer.");
                break;
            case "number":
                Assert.Equal(JsonValueKind.Number, value.GetValueKind());
                break;
            case "boolean":
                Assert.Contains(value.GetValueKind(), new[] { JsonValueKind.True, JsonValueKind.False });
                break;
            default:
                Assert.Fail($"{path}: schema type {schema["type"]} is not handled.");
                break;
        }
    }

    private void Collect(JsonNode? value, JsonObject schema, HashSet<string> written, string path)
    {
        schema = Resolve(schema, out var name);
        path = name ?? path;
        if (value is JsonObject obj && ServedDocument.Text(schema["type"]) == "object")
        {
            foreach (var (key, child) in obj)
            {
                written.Add($"{path}.{key}");
                if (schema["properties"]?[key] is JsonObject childSchema)
                {
                    Collect(child, childSchema, written, $"{path}.{key}");
                }
            }
        }
        else if (value is JsonArray array && schema["items"] is JsonObject items)
        {
            foreach (var item in array)
            {
                Collect(item, items, written, path + "[]");
            }
        }
    }

    private JsonObject Resolve(JsonObject schema, out string? name)
    {
        name = null;
        if (ServedDocument.Text(schema["$ref"]) is { } reference)
        {
            name = reference["#/definitions/".Length..];
            return _served.Definition(name);
        }

        return schema;
    }

    private static string Write<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo) => JsonSerializer.Serialize(value, typeInfo);

    private static string Encoding(byte[] utf8) => System.Text.Encoding.UTF8.GetString(utf8);
}
