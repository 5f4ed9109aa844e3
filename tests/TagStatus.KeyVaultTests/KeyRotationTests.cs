using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SmsPartner.Simulator;
using TagStatus.Core.Domain;
using TagStatus.Core.Secrets;
using TagStatus.Core.SmsPartner;

namespace TagStatus.KeyVaultTests;

/// <summary>A key rotated in the vault is picked up on SMS Partner's first refusal, without a restart.</summary>
public sealed class KeyRotationTests : IAsyncLifetime
{
    private const string SecretName = "smspartner-api-key";
    private static readonly Tag Campaign = Tag.Parse("montag");

    private FakeKeyVault _vault = null!;
    private RunningSimulator _simulator = null!;
    private readonly FakeLogCollector _logs = new();

    public async Task InitializeAsync()
    {
        _vault = await FakeKeyVault.StartAsync();
        _simulator = await SimulatorApp.StartAsync(new SimulatorOptions());
        _simulator.State.SeedTag(Campaign.Value, DemoSeed.DocumentedExample);
    }

    public async Task DisposeAsync()
    {
        await _simulator.DisposeAsync();
        await _vault.DisposeAsync();
    }

    private SmsPartnerClient NewClient() => new(
        new HttpClient(),
        TestSupport.CreateSource(_vault, new FakeTimeProvider(), new FakeLogger<KeyVaultSecretSource>(_logs)),
        Options.Create(new SmsPartnerOptions { BaseUrl = _simulator.BaseUri }),
        TimeProvider.System,
        new FakeLogger<SmsPartnerClient>(_logs));

    [Fact]
    public async Task A_rotated_key_is_read_again_once_and_the_call_succeeds()
    {
        var oldKey = TestSupport.NewSecretValue("old");
        _vault.SetSecret(SecretName, oldKey);
        _simulator.State.SetValidKeys([oldKey]);
        var client = NewClient();
        await client.GetStatusesByTagAsync(Campaign, default);
        Assert.Equal(1, _vault.SecretReads);

        var newKey = TestSupport.NewSecretValue("new");
        _vault.SetSecret(SecretName, newKey);
        _simulator.State.SetValidKeys([newKey]);
        var report = await client.GetStatusesByTagAsync(Campaign, default);

        Assert.Equal(2, report.RowsRead.Count);
        Assert.Equal(2, _vault.SecretReads);
        TestSupport.AssertNoSecretIn(_logs, oldKey, newKey);
    }

    [Fact]
    public async Task A_key_still_refused_after_the_reread_fails_with_code_10_and_says_so_without_the_key()
    {
        var oldKey = TestSupport.NewSecretValue("old");
        _vault.SetSecret(SecretName, oldKey);
        _simulator.State.SetValidKeys([oldKey]);
        var client = NewClient();
        await client.GetStatusesByTagAsync(Campaign, default);

        var wrongKey = TestSupport.NewSecretValue("wrong");
        _vault.SetSecret(SecretName, wrongKey);
        _simulator.State.SetValidKeys(["nobody-has-this-key"]);
        var refused = await Assert.ThrowsAsync<SmsPartnerRefusedException>(() => client.GetStatusesByTagAsync(Campaign, default));

        Assert.Equal(SmsPartnerRefusedException.InvalidApiKey, refused.Code);
        Assert.Equal(2, _vault.SecretReads);
        Assert.Contains(_logs.GetSnapshot(), r => r.Message.Contains("refused the API key", StringComparison.Ordinal));
        Assert.DoesNotContain(wrongKey, refused.ToString(), StringComparison.Ordinal);
        TestSupport.AssertNoSecretIn(_logs, oldKey, wrongKey);
    }
}
