using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TagStatus.Api.Hosting;

namespace TagStatus.Tests.Composition;

/// <summary>The hosts' log filters: the Azure SDK's request lines off by default, back on by a setting when diagnosing.</summary>
public class QuietLoggingTests
{
    private static ILoggerFactory Factory(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection()
            .AddLogging(logging => logging
                .AddConfiguration(configuration.GetSection("Logging"))
                .SetMinimumLevel(LogLevel.Information)
                .AddQuietAzureSdkLogs()
                .AddProvider(new Microsoft.Extensions.Logging.Testing.FakeLoggerProvider()))
            .BuildServiceProvider()
            .GetRequiredService<ILoggerFactory>();
    }

    [Theory]
    [InlineData("Azure.Core")]
    [InlineData("Azure.Identity")]
    [InlineData("Azure.Data.Tables")]
    [InlineData("System.Net.Http.HttpClient.Default.LogicalHandler")]
    [InlineData("Polly")]
    public void Sdk_request_categories_log_warnings_only_by_default(string category)
    {
        var logger = Factory([]).CreateLogger(category);

        Assert.False(logger.IsEnabled(LogLevel.Information));
        Assert.True(logger.IsEnabled(LogLevel.Warning));
    }

    [Fact]
    public void The_apps_own_categories_keep_information()
    {
        Assert.True(Factory([]).CreateLogger("TagStatus.Core.Tracking.RefreshRunner").IsEnabled(LogLevel.Information));
    }

    [Fact]
    public void A_logging_setting_for_azure_core_turns_its_request_lines_back_on()
    {
        var logger = Factory(new() { ["Logging:LogLevel:Azure.Core"] = "Information" }).CreateLogger("Azure.Core");

        Assert.True(logger.IsEnabled(LogLevel.Information));
    }
}
