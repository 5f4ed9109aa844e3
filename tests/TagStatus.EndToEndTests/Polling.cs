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
}
