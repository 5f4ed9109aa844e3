using Microsoft.Extensions.DependencyInjection;
using SmsPartner.Simulator;
using TagStatus.Core.Domain;
using TagStatus.Core.SmsPartner;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.IntegrationTests.SmsPartner;

/// <summary>The real client, with its resilience pipeline, against the simulator over loopback HTTP.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class SmsPartnerClientSimulatorTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly Tag Campaign = Tag.Parse("campaign");
    private AppHarness _app = null!;

    private ISmsPartnerClient Client => _app.Get<ISmsPartnerClient>();

    private SimulatorState Simulator => _app.Simulator.State;

    public async Task InitializeAsync()
    {
        _app = await AppHarness.StartAsync(azurite);
        Simulator.GenerateTag(Campaign.Value, new GenerateSpec { Count = 1000, WaitingRatio = 0.3, Seed = 7 });
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Reads_a_thousand_recipients_over_fifty_pages()
    {
        var report = await Client.GetStatusesByTagAsync(Campaign, default);

        Assert.Equal(1000, report.RowsRead.Count);
        Assert.Equal(50, report.PagesRead);
        Assert.True(report.IsFull);
        Assert.Equal(50, Simulator.StatusRequestsFor(Campaign.Value));
        var expected = Simulator.GetRows(Campaign.Value)!;
        Assert.Equal(expected.Select(r => (r.PhoneNumber, r.Status)), report.RowsRead.Select(r => (r.PhoneNumber, r.RawStatus)));
    }

    [Fact]
    public async Task Numbers_and_flags_written_as_strings_read_the_same()
    {
        Simulator.Paging = new PagingSettings(PageSize: 20, NumbersAsStrings: true, DateAsNumber: true, StopSmsAs: StopSmsFormat.String);
        var asStrings = await Client.GetStatusesByTagAsync(Campaign, default);
        Simulator.Paging = new PagingSettings(PageSize: 20, StopSmsAs: StopSmsFormat.Int);
        var asNumbers = await Client.GetStatusesByTagAsync(Campaign, default);

        Assert.Equal(1000, asStrings.RowsRead.Count);
        Assert.Equal(asNumbers.RowsRead, asStrings.RowsRead);
        Assert.All(asStrings.RowsRead, r => Assert.NotNull(r.StatusAt));
    }

    [Fact]
    public async Task An_endpoint_that_ignores_the_page_is_read_once_and_never_counts_as_complete()
    {
        Simulator.Paging = new PagingSettings(PageSize: 20, IgnorePage: true);

        var report = await Client.GetStatusesByTagAsync(Campaign, default);

        Assert.Equal(20, report.RowsRead.Count);
        Assert.False(report.IsFull);
        Assert.Equal(2, Simulator.StatusRequestsFor(Campaign.Value));
    }

    [Fact]
    public async Task Server_errors_are_retried_until_an_answer_comes()
    {
        Simulator.QueueFault(FaultKind.ServerError, count: 2);

        var report = await Client.GetStatusesByTagAsync(Campaign, default);

        Assert.Equal(1000, report.RowsRead.Count);
        Assert.Equal(52, Simulator.StatusRequests);
    }

    [Fact]
    public async Task Too_many_requests_waits_for_retry_after_then_succeeds()
    {
        Simulator.QueueFault(new FaultSpec { Kind = FaultKind.TooManyRequests, Count = 1, RetryAfterSeconds = 1 });
        var started = TimeProvider.System.GetTimestamp();

        var report = await Client.GetStatusesByTagAsync(Campaign, default);

        Assert.Equal(1000, report.RowsRead.Count);
        Assert.True(TimeProvider.System.GetElapsedTime(started) >= TimeSpan.FromSeconds(0.9), "Retry-After: 1 was not honoured");
    }

    [Fact]
    public async Task A_slow_answer_times_out_and_the_retry_succeeds()
    {
        Simulator.QueueFault(new FaultSpec { Kind = FaultKind.Slow, Count = 1, DelayMs = 5000 });

        var report = await Client.GetStatusesByTagAsync(Campaign, default);

        Assert.Equal(1000, report.RowsRead.Count);
        Assert.Equal(51, Simulator.StatusRequests);
    }

    [Fact]
    public async Task A_server_that_keeps_failing_ends_as_unavailable()
    {
        Simulator.QueueFault(FaultKind.ServerError, count: 100);

        await Assert.ThrowsAsync<SmsPartnerUnavailableException>(() => Client.GetStatusesByTagAsync(Campaign, default));
    }

    [Theory]
    [InlineData(FaultKind.MalformedJson)]
    [InlineData(FaultKind.NonJson)]
    public async Task A_body_that_is_not_the_json_envelope_is_a_bad_answer(FaultKind kind)
    {
        Simulator.QueueFault(kind, count: 1);

        await Assert.ThrowsAsync<SmsPartnerBadAnswerException>(() => Client.GetStatusesByTagAsync(Campaign, default));
    }

    [Fact]
    public async Task A_truncated_answer_fails_and_stores_nothing_as_complete()
    {
        Simulator.QueueFault(FaultKind.Truncated, count: 10);

        var failure = await Assert.ThrowsAnyAsync<SmsPartnerException>(() => Client.GetStatusesByTagAsync(Campaign, default));

        Assert.True(failure is SmsPartnerBadAnswerException or SmsPartnerUnavailableException, failure.GetType().Name);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_refused_key_is_a_typed_failure_with_code_10_whether_http_200_or_401(bool useHttpStatus)
    {
        Simulator.FailuresUseHttpStatus = useHttpStatus;
        Simulator.SetValidKeys(["another-key"]);

        var refused = await Assert.ThrowsAsync<SmsPartnerRefusedException>(() => Client.GetStatusesByTagAsync(Campaign, default));

        Assert.Equal(SmsPartnerRefusedException.InvalidApiKey, refused.Code);
    }

    [Fact]
    public async Task An_unknown_tag_is_code_4()
    {
        var refused = await Assert.ThrowsAsync<SmsPartnerRefusedException>(() => Client.GetStatusesByTagAsync(Tag.Parse("nosuchtag"), default));

        Assert.True(refused.IsNotFound);
    }

    [Fact]
    public async Task No_log_line_or_exception_holds_the_api_key()
    {
        await Client.GetStatusesByTagAsync(Campaign, default);
        Simulator.QueueFault(FaultKind.ServerError, count: 100);
        var failure = await Assert.ThrowsAsync<SmsPartnerUnavailableException>(() => Client.GetStatusesByTagAsync(Campaign, default));
        Simulator.SetValidKeys(["another-key"]);
        Simulator.ClearFaults();
        var refused = await Assert.ThrowsAsync<SmsPartnerRefusedException>(() => Client.GetStatusesByTagAsync(Campaign, default));

        var logs = _app.AllLogText();
        Assert.Contains("apiKey=***", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(_app.Simulator.ApiKey, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(_app.Simulator.ApiKey, failure.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(_app.Simulator.ApiKey, refused.ToString(), StringComparison.Ordinal);
    }
}
