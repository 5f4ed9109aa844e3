using System.Text.Json.Nodes;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SmsPartner.Simulator;
using TagStatus.Core.Domain;
using TagStatus.Core.Secrets;
using TagStatus.Core.Storage;
using TagStatus.Core.Tracking;
using TagStatus.FaultTests.Support;
using TagStatus.IntegrationTests.Support;
using TagStatus.KeyVaultTests;

namespace TagStatus.FaultTests;

/// <summary>
/// Key Vault (the loopback vault, read by the real <see cref="SecretClient"/>) unreachable for ten minutes of the app's
/// clock, its cached secrets expired, then back: lookups serve stored data marked stale or answer 503 with Retry-After,
/// refreshes fail and are retried, nothing stored is lost, and the same app resumes without a restart.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class KeyVaultOutageTests(AzuriteFixture azurite)
{
    private static readonly Tag Stored = Tag.Parse("vaultstored");
    private static readonly Tag NeverRead = Tag.Parse("vaultnew");

    [Fact]
    public async Task A_vault_outage_serves_stale_or_503_retries_refreshes_and_resumes_without_a_restart()
    {
        var apiKey = SecretScan.NewSecret("smspartner");
        var signingKey = SecretScan.NewSecret("signing");
        await using var vault = await FakeKeyVault.StartAsync();
        vault.SetSecret("smspartner-api-key", apiKey);
        vault.SetSecret("callback-signing-key", signingKey);
        await using var app = await AppHarness.StartAsync(
            azurite,
            settings =>
            {
                settings["Secrets:VaultUri"] = vault.VaultUri.AbsoluteUri;
                settings.Remove("SmsPartner:ApiKey");
                settings.Remove("Callbacks:SigningKey");
            },
            new SimulatorOptions { ApiKey = apiKey },
            services: services => services.AddSingleton<ISecretSource>(sp => new KeyVaultSecretSource(
                new SecretClient(vault.VaultUri, new StaticTokenCredential("vault-token"), TestSupport.VaultClientOptions()),
                sp.GetRequiredService<IOptions<SecretsOptions>>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<KeyVaultSecretSource>>())));
        var simulator = app.Simulator.State;
        var store = app.Get<ITagStore>();
        foreach (var tag in new[] { Stored, NeverRead })
        {
            simulator.GenerateTag(tag.Value, new GenerateSpec { Count = 60, WaitingRatio = 0.8, SettleAfterSecondsMin = 60, SettleAfterSecondsMax = 400, Seed = tag.Value.Length });
        }

        Assert.Equal(TagState.Pending, (await app.Get<TrackingService>().RegisterAsync(Stored, default)).State);
        var before = Invariants.FinalsByPhone(await Invariants.RowsAsync(store, Stored));
        var bodies = new List<string>();

        // Ten minutes without the vault: the cached secrets (5 min) run out on the way.
        vault.Unavailable = true;
        for (var minute = 0; minute < 10; minute++)
        {
            app.Advance(TimeSpan.FromMinutes(1));
            await app.RunTimerAndQueuesAsync();
        }

        var stale = await Lookups.GetAsync(app, Stored.Value, "?maxAge=0");
        var unavailable = await Lookups.GetAsync(app, NeverRead.Value, "?maxAge=0");
        bodies.AddRange([stale.Body, unavailable.Body]);
        Assert.Equal(200, stale.Status);
        Assert.True((bool)JsonNode.Parse(stale.Body)!["stale"]!);
        Assert.Equal(503, unavailable.Status);
        Assert.NotNull(unavailable.RetryAfter);
        var during = await Invariants.AssertCountsEqualRowsAsync(store, Stored);
        Assert.Equal(TagState.Pending, during.State);
        Assert.True(during.FailedRefreshes > 0, "no refresh was tried (and failed) while the vault was away");
        Invariants.AssertNothingLostNorUndone(Stored.Value, before, await Invariants.RowsAsync(store, Stored));

        // Back: the same app (no restart) refreshes on its back-off and answers live again.
        vault.Unavailable = false;
        for (var minute = 0; minute < 60 && (await store.GetSummaryAsync(Stored, default))!.Summary.State == TagState.Pending; minute++)
        {
            app.Advance(TimeSpan.FromMinutes(1));
            await app.RunTimerAndQueuesAsync();
        }

        var resumed = await Invariants.AssertCountsEqualRowsAsync(store, Stored);
        Assert.Equal(TagState.Complete, resumed.State);
        Invariants.AssertEqualsTruth(Stored.Value, simulator.GetRows(Stored.Value)!, await Invariants.RowsAsync(store, Stored));
        var live = await Lookups.GetAsync(app, NeverRead.Value, "?maxAge=0");
        bodies.Add(live.Body);
        Assert.Equal(200, live.Status);
        Assert.Equal("live", (string?)JsonNode.Parse(live.Body)!["source"]);
        SecretScan.AssertClean([apiKey, signingKey], [app.AllLogText(), .. bodies]);
    }
}
