using System.Text.Json.Nodes;

namespace TagStatus.EndToEndTests;

internal static class Json
{
    public static async Task<JsonNode> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(text) ?? throw new InvalidOperationException($"Expected JSON, got '{text}'.");
    }

    public static StringContent Body(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    public static int Int(this JsonNode node, string path) => Walk(node, path).GetValue<int>();

    public static string? Str(this JsonNode node, string path) => Walk(node, path)?.GetValue<string>();

    private static JsonNode Walk(JsonNode node, string path)
    {
        foreach (var part in path.Split('.'))
        {
            node = node[part] ?? throw new InvalidOperationException($"'{path}' is missing from {node.ToJsonString()}");
        }

        return node;
    }
}
