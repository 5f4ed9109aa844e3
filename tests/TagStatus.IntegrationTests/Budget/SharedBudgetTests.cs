using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using TagStatus.Core.SmsPartner.Budget;
using TagStatus.IntegrationTests.Support;

namespace TagStatus.IntegrationTests.Budget;

/// <summary>
/// Two budget clients, each with its own Table Storage client as two instances would have, over one real Azurite table.
/// Time is real here: the assertions are lower bounds on how long the budget made callers wait, which a slow machine
/// can only make easier to meet.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class SharedBudgetTests(AzuriteFixture azurite)
{
    private const string Key = "integration-secret-key-42";

    private UpstreamBudget Instance(string prefix, BudgetRules rules) =>
        new(new TableBudgetStore(new TableServiceClient(azurite.ConnectionString), prefix), rules, TimeProvider.System, NullLogger<UpstreamBudget>.Instance);

    [Fact]
    public async Task Two_instances_share_one_budget()
    {
        var prefix = AzuriteFixture.UniquePrefix();
        var rules = new BudgetRules(RatePerSecond: 20, BatchSize: 2);
        var one = Instance(prefix, rules);
        var two = Instance(prefix, rules);
        var grantedAt = new ConcurrentQueue<TimeSpan>();
        var clock = Stopwatch.StartNew();

        // 4 callers per instance, 60 calls in all: alone, each instance could make them all at once.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            var budget = i % 2 == 0 ? one : two;
            for (var call = 0; call < 60 / 8 + (i < 60 % 8 ? 1 : 0); call++)
            {
                await budget.AcquireAsync(Key, default);
                grantedAt.Enqueue(clock.Elapsed);
            }
        })));

        Assert.Equal(60, grantedAt.Count);
        // At most Capacity + Rate × (t + HoldTime) calls by time t: 60 calls need at least (60 − 1) / 20 s less HoldTime.
        var minimum = TimeSpan.FromSeconds((60.0 - rules.Capacity) / rules.RatePerSecond) - rules.HoldTime;
        Assert.True(clock.Elapsed >= minimum, $"60 calls at 20/s over two instances took only {clock.Elapsed.TotalSeconds:F2} s");
        foreach (var at in grantedAt)
        {
            var sofar = grantedAt.Count(t => t <= at);
            Assert.True(sofar <= rules.Capacity + rules.RatePerSecond * (at + rules.HoldTime).TotalSeconds + 1, $"{sofar} calls by {at.TotalSeconds:F2} s");
        }
    }

    [Fact]
    public async Task A_429_stored_by_one_instance_makes_the_other_wait()
    {
        var prefix = AzuriteFixture.UniquePrefix();
        var rules = new BudgetRules(RatePerSecond: 50, BatchSize: 1);
        var hit = Instance(prefix, rules);
        var other = Instance(prefix, rules);
        await other.AcquireAsync(Key, default);

        await hit.ReportTooManyRequestsAsync(Key, TimeSpan.FromSeconds(2), default);
        var clock = Stopwatch.StartNew();
        await other.AcquireAsync(Key, default);

        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.9), $"the other instance called again after {clock.Elapsed.TotalSeconds:F2} s");
    }

    [Fact]
    public async Task The_row_is_keyed_by_the_hash_and_holds_no_key()
    {
        var prefix = AzuriteFixture.UniquePrefix();
        var budget = Instance(prefix, new BudgetRules(5, 2));

        await budget.AcquireAsync(Key, default);
        await budget.ReportTooManyRequestsAsync(Key, TimeSpan.FromSeconds(1), default);

        var table = azurite.Service.GetTableClient(prefix + TableBudgetStore.TableName);
        var row = Assert.Single(table.Query<TableEntity>().ToList());
        Assert.Equal(UpstreamBudget.HashOf(Key), row.PartitionKey);
        Assert.All(row.Keys, k => Assert.DoesNotContain(Key, row[k]?.ToString() ?? string.Empty, StringComparison.Ordinal));
        Assert.NotNull(row.GetDateTimeOffset("BlockedUntil"));
        Assert.Equal(0, row.GetDouble("Tokens"));
    }

    [Fact]
    public async Task Conditional_writes_lose_no_take_under_contention()
    {
        var prefix = AzuriteFixture.UniquePrefix();
        var rules = new BudgetRules(RatePerSecond: 1000, BatchSize: 1);
        var stores = Enumerable.Range(0, 4).Select(_ => new TableBudgetStore(new TableServiceClient(azurite.ConnectionString), prefix)).ToList();
        var hash = UpstreamBudget.HashOf(Key);
        // A bucket that never refills in this test's time: 40 tokens, refilled at a time far ahead.
        var start = new BucketState(40, DateTimeOffset.UtcNow.AddHours(1), null);
        Assert.NotNull(await stores[0].TryCreateAsync(hash, start, default));

        var granted = await Task.WhenAll(stores.Select(store => Task.Run(async () =>
        {
            var bucket = new SharedTokenBucket(hash, store, rules with { BatchSize = 40 }, TimeProvider.System, NullLogger.Instance);
            var mine = 0;
            for (var i = 0; i < 10; i++)
            {
                mine += (await bucket.TakeAsync(1, default)).Tokens;
            }

            return mine;
        })));

        Assert.Equal(40, granted.Sum());
        var row = await stores[0].ReadAsync(hash, default);
        Assert.Equal(0, row!.State.Tokens, precision: 9);
        Assert.Equal(start.RefilledAt, row.State.RefilledAt); // to the tick: a rounded time would refill extra tokens
    }
}
