namespace TagStatus.EndToEndTests;

internal static class Polling
{
    /// <summary>Asks until <paramref name="done"/> holds, every half second, within a bounded deadline; returns the last answer.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> ask, Func<T, bool> done, TimeSpan deadline, string what)
    {
        var until = DateTime.UtcNow + deadline;
        while (true)
        {
            var answer = await ask();
            if (done(answer))
            {
                return answer;
            }

            if (DateTime.UtcNow >= until)
            {
                throw new TimeoutException($"{what} did not happen within {deadline.TotalSeconds} s; last answer: {answer}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
    }

    /// <summary>
    /// Runs the timer (<see cref="E2e.RunTimerAsync"/>) and asks for the tag's completion until it stops answering 202:
    /// only the timer refreshes a tag nobody looks up, since completion reads the store and never SMS Partner.
    /// </summary>
    public static Task<(System.Net.HttpStatusCode StatusCode, string Body)> UntilCompletedAsync(HttpClient app, string tag, TimeSpan deadline) =>
        UntilAsync(
            async () =>
            {
                await E2e.RunTimerAsync();
                using var response = await app.GetAsync($"api/tags/{tag}/completion");
                return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
            },
            answer => answer.StatusCode != System.Net.HttpStatusCode.Accepted,
            deadline,
            $"completion of '{tag}'");
}
