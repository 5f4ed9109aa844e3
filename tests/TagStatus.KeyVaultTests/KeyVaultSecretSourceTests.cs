using Azure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using TagStatus.Core.Secrets;
using static TagStatus.KeyVaultTests.TestSupport;

namespace TagStatus.KeyVaultTests;

/// <summary>The Key Vault source with the real SecretClient against the loopback vault: cache, rotation, outage.</summary>
public sealed class KeyVaultSecretSourceTests : IAsyncLifetime
{
    private const string ApiKeyName = "smspartner-api-key";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 15, 8, 0, 0, TimeSpan.Zero));
    private readonly FakeLogger<KeyVaultSecretSource> _logger = new();
    private FakeKeyVault _vault = null!;

    public async Task InitializeAsync() => _vault = await FakeKeyVault.StartAsync();

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    [Fact]
    public async Task First_lookup_answers_the_challenge_then_reads_with_the_token()
    {
        var value = NewSecretValue("api-key");
        _vault.SetSecret(ApiKeyName, value);
        var source = CreateSource(_vault, _time, _logger, token: "token-for-vault");

        Assert.Equal(value, await source.GetAsync(AppSecret.SmsPartnerApiKey, default));

        var requests = _vault.Requests.ToArray();
        Assert.Equal(2, requests.Length);
        Assert.Equal((null, 401), (requests[0].BearerToken, requests[0].Status));
        Assert.Equal(("token-for-vault", 200), (requests[1].BearerToken, requests[1].Status));
        Assert.StartsWith($"/secrets/{ApiKeyName}", requests[1].Path, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(requests[1].ApiVersion));
    }

    [Fact]
    public async Task Lookups_within_the_cache_duration_cost_one_vault_read()
    {
        var value = NewSecretValue("api-key");
        _vault.SetSecret(ApiKeyName, value);
        var source = CreateSource(_vault, _time, _logger);

        Assert.Equal(value, await source.GetAsync(AppSecret.SmsPartnerApiKey, default));
        _time.Advance(CacheDuration - TimeSpan.FromSeconds(1));
        Assert.Equal(value, await source.GetAsync(AppSecret.SmsPartnerApiKey, default));
        Assert.Equal(1, _vault.SecretReads);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(value, await source.GetAsync(AppSecret.SmsPartnerApiKey, default));
        Assert.Equal(2, _vault.SecretReads);
    }

    [Fact]
    public async Task Each_secret_is_read_under_its_own_name()
    {
        var apiKey = NewSecretValue("api-key");
        var signingKey = NewSecretValue("signing-key");
        _vault.SetSecret(ApiKeyName, apiKey);
        _vault.SetSecret("callback-signing-key", signingKey);
        var source = CreateSource(_vault, _time, _logger);

        Assert.Equal(signingKey, await source.GetAsync(AppSecret.CallbackSigningKey, default));
        Assert.Equal(apiKey, await source.GetAsync(AppSecret.SmsPartnerApiKey, default));
        Assert.Equal(2, _vault.SecretReads);
    }

    [Fact]
    public async Task Refresh_after_rotation_reads_the_new_value_once()
    {
        var oldValue = NewSecretValue("old-key");
        var newValue = NewSecretValue("new-key");
        _vault.SetSecret(ApiKeyName, oldValue);
        var source = CreateSource(_vault, _time, _logger);
        Assert.Equal(oldValue, await source.GetAsync(AppSecret.SmsPartnerApiKey, default));

        _vault.SetSecret(ApiKeyName, newValue);
        Assert.Equal(oldValue, await source.GetAsync(AppSecret.SmsPartnerApiKey, default)); // still cached
        Assert.Equal(newValue, await source.RefreshAsync(AppSecret.SmsPartnerApiKey, oldValue, default));
        Assert.Equal(2, _vault.SecretReads);

        Assert.Equal(newValue, await source.GetAsync(AppSecret.SmsPartnerApiKey, default));
        Assert.Equal(2, _vault.SecretReads);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == 5004 && r.Message.Contains(ApiKeyName, StringComparison.Ordinal));
        AssertNoSecretIn(_logger.Collector, oldValue, newValue);
    }

    [Fact]
    public async Task Concurrent_refreshes_share_one_vault_read()
    {
        var oldValue = NewSecretValue("old-key");
        var newValue = NewSecretValue("new-key");
        _vault.SetSecret(ApiKeyName, oldValue);
        var source = CreateSource(_vault, _time, _logger);
        Assert.Equal(oldValue, await source.GetAsync(AppSecret.SmsPartnerApiKey, default));
        _vault.SetSecret(ApiKeyName, newValue);

        _vault.HoldReads();
        var refreshes = Enumerable.Range(0, 10)
            .Select(_ => source.RefreshAsync(AppSecret.SmsPartnerApiKey, oldValue, default).AsTask())
            .ToArray();
        await _vault.ReadArrived.Task.WaitAsync(Patience);
        Assert.All(refreshes, r => Assert.False(r.IsCompleted)); // all ten wait on the one read
        _vault.ReleaseReads();
        var values = await Task.WhenAll(refreshes).WaitAsync(Patience);

        Assert.All(values, v => Assert.Equal(newValue, v));
        Assert.Equal(2, _vault.SecretReads); // the first lookup and one shared re-read
    }

    [Fact]
    public async Task A_caller_that_gives_up_does_not_cancel_the_shared_read()
    {
        var value = NewSecretValue("api-key");
        _vault.SetSecret(ApiKeyName, value);
        var source = CreateSource(_vault, _time, _logger);
        _vault.HoldReads();
        using var giveUp = new CancellationTokenSource();

        var impatient = source.GetAsync(AppSecret.SmsPartnerApiKey, giveUp.Token).AsTask();
        var patient = source.GetAsync(AppSecret.SmsPartnerApiKey, default).AsTask();
        await _vault.ReadArrived.Task.WaitAsync(Patience);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => impatient);
        _vault.ReleaseReads();

        Assert.Equal(value, await patient.WaitAsync(Patience));
        Assert.Equal(1, _vault.SecretReads);
    }

    [Fact]
    public async Task Refresh_of_a_value_already_replaced_gets_the_newer_value_without_a_read()
    {
        var v1 = NewSecretValue("key-v1");
        var v2 = NewSecretValue("key-v2");
        _vault.SetSecret(ApiKeyName, v1);
        var source = CreateSource(_vault, _time, _logger);
        Assert.Equal(v1, await source.GetAsync(AppSecret.SmsPartnerApiKey, default));
        _vault.SetSecret(ApiKeyName, v2);
        Assert.Equal(v2, await source.RefreshAsync(AppSecret.SmsPartnerApiKey, v1, default));
        Assert.Equal(2, _vault.SecretReads);

        // A slow caller that still holds v1 learns it was refused: it gets v2 from the cache.
        _vault.SetSecret(ApiKeyName, NewSecretValue("key-v3"));
        Assert.Equal(v2, await source.RefreshAsync(AppSecret.SmsPartnerApiKey, v1, default));
        Assert.Equal(2, _vault.SecretReads);
    }

    [Fact]
    public async Task Refusal_of_the_value_the_vault_still_holds_is_rechecked_only_after_an_interval()
    {
        var value = NewSecretValue("wrong-key");
        _vault.SetSecret(ApiKeyName, value);
        var source = CreateSource(_vault, _time, _logger);
        Assert.Equal(value, await source.GetAsync(AppSecret.SmsPartnerApiKey, default));

        Assert.Equal(value, await source.RefreshAsync(AppSecret.SmsPartnerApiKey, value, default));
        Assert.Equal(2, _vault.SecretReads);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == 5005 && r.Level == LogLevel.Warning);

        Assert.Equal(value, await source.RefreshAsync(AppSecret.SmsPartnerApiKey, value, default));
        Assert.Equal(2, _vault.SecretReads);

        _time.Advance(KeyVaultSecretSource.RefusedValueRecheckInterval);
        Assert.Equal(value, await source.RefreshAsync(AppSecret.SmsPartnerApiKey, value, default));
        Assert.Equal(3, _vault.SecretReads);
    }

    [Fact]
    public async Task Vault_down_serves_the_last_good_value_until_its_cache_life_ends_then_fails_by_name()
    {
        var value = NewSecretValue("api-key");
        _vault.SetSecret(ApiKeyName, value);
        var source = CreateSource(_vault, _time, _logger);
        Assert.Equal(value, await source.GetAsync(AppSecret.SmsPartnerApiKey, default));

        _vault.Unavailable = true;
        _time.Advance(CacheDuration - TimeSpan.FromSeconds(1));
        Assert.Equal(value, await source.GetAsync(AppSecret.SmsPartnerApiKey, default));
        var requestsBefore = _vault.Requests.Count;

        _time.Advance(TimeSpan.FromSeconds(1));
        var error = await Assert.ThrowsAsync<SecretUnavailableException>(
            () => source.GetAsync(AppSecret.SmsPartnerApiKey, default).AsTask());

        Assert.Equal(requestsBefore + 1, _vault.Requests.Count);
        Assert.Equal(503, _vault.Requests.Last().Status);
        Assert.Equal(AppSecret.SmsPartnerApiKey, error.Secret);
        Assert.Equal(ApiKeyName, error.SecretName);
        Assert.Equal(_vault.VaultUri.Authority, error.Origin);
        Assert.Contains(ApiKeyName, error.Message, StringComparison.Ordinal);
        Assert.Contains(_vault.VaultUri.Authority, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, error.ToString(), StringComparison.Ordinal);
        Assert.Equal(503, Assert.IsType<RequestFailedException>(error.InnerException).Status);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == 5003 && r.Exception is not null);
        AssertNoSecretIn(_logger.Collector, value);

        // Back up: the next lookup reads again.
        _vault.Unavailable = false;
        Assert.Equal(value, await source.GetAsync(AppSecret.SmsPartnerApiKey, default));
    }

    [Fact]
    public async Task Vault_stopped_fails_after_the_cache_life_with_the_secret_name()
    {
        var value = NewSecretValue("api-key");
        _vault.SetSecret(ApiKeyName, value);
        var source = CreateSource(_vault, _time, _logger);
        Assert.Equal(value, await source.GetAsync(AppSecret.SmsPartnerApiKey, default));

        await _vault.StopAsync();
        Assert.Equal(value, await source.GetAsync(AppSecret.SmsPartnerApiKey, default));
        _time.Advance(CacheDuration);

        var error = await Assert.ThrowsAsync<SecretUnavailableException>(
            () => source.GetAsync(AppSecret.SmsPartnerApiKey, default).AsTask());
        Assert.Contains(ApiKeyName, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, error.ToString(), StringComparison.Ordinal);
        AssertNoSecretIn(_logger.Collector, value);
    }

    [Fact]
    public async Task Refusal_while_the_vault_is_down_fails_but_keeps_the_cached_value()
    {
        var value = NewSecretValue("api-key");
        _vault.SetSecret(ApiKeyName, value);
        var source = CreateSource(_vault, _time, _logger);
        Assert.Equal(value, await source.GetAsync(AppSecret.SmsPartnerApiKey, default));

        _vault.Unavailable = true;
        var error = await Assert.ThrowsAsync<SecretUnavailableException>(
            () => source.RefreshAsync(AppSecret.SmsPartnerApiKey, value, default).AsTask());
        Assert.Contains(ApiKeyName, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, error.ToString(), StringComparison.Ordinal);

        Assert.Equal(value, await source.GetAsync(AppSecret.SmsPartnerApiKey, default));
    }

    [Fact]
    public async Task Missing_secret_fails_with_its_name()
    {
        var source = CreateSource(_vault, _time, _logger);

        var error = await Assert.ThrowsAsync<SecretUnavailableException>(
            () => source.GetAsync(AppSecret.CallbackSigningKey, default).AsTask());

        Assert.Equal("callback-signing-key", error.SecretName);
        Assert.Equal(404, Assert.IsType<RequestFailedException>(error.InnerException).Status);
    }
}
