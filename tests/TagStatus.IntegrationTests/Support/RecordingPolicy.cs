using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;

namespace TagStatus.IntegrationTests.Support;

/// <summary>
/// A pipeline policy on the app's storage clients: records every request (method and URL, the query's
/// <c>$filter</c> included) and can fail the ones a test picks, to break a write halfway.
/// </summary>
public sealed class RecordingPolicy : HttpPipelinePolicy
{
    public ConcurrentQueue<(string Method, Uri Uri)> Requests { get; } = new();

    /// <summary>Requests this matches answer 503 without reaching storage, while set.</summary>
    public Func<string, Uri, bool>? FailWhen { get; set; }

    public void Clear() => Requests.Clear();

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var method = message.Request.Method.ToString();
        var uri = message.Request.Uri.ToUri();
        Requests.Enqueue((method, uri));
        if (FailWhen?.Invoke(method, uri) == true)
        {
            throw new Azure.RequestFailedException(503, "Failed by the test's RecordingPolicy.");
        }

        await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
    }

    /// <summary>The decoded <c>$filter</c> of every table query recorded (point reads and writes have none).</summary>
    public IReadOnlyList<(string Table, string Filter)> TableQueries() =>
        Requests
            .Where(r => r.Method == "GET" && r.Uri.AbsolutePath.EndsWith("()", StringComparison.Ordinal))
            .Select(r => (Table: r.Uri.AbsolutePath.Split('/')[^1].TrimEnd('(', ')'), Filter: FilterOf(r.Uri)))
            .ToList();

    private static string FilterOf(Uri uri)
    {
        foreach (var pair in uri.Query.TrimStart('?').Split('&'))
        {
            if (pair.StartsWith("$filter=", StringComparison.Ordinal))
            {
                return Uri.UnescapeDataString(pair["$filter=".Length..].Replace('+', ' '));
            }
        }

        return string.Empty;
    }
}
