namespace TagStatus.InfraTests;

/// <summary>
/// The work queues are made by the deployment, with their poison queues, under the names the app settings give the
/// triggers: the app never needs the right to create a queue.
/// </summary>
public class QueueTests
{
    private static ArmResource Queues => CompiledTemplate.Instance.Single("Microsoft.Storage/storageAccounts/queueServices/queues");

    [Fact]
    public void The_storage_module_makes_each_work_queue_and_its_poison_queue()
    {
        var queues = Queues;

        var name = queues.RawName;
        Assert.Contains("parameters('workQueueNames')", name, StringComparison.Ordinal);
        Assert.Contains("format('{0}-poison', lambdaVariables('q'))", name, StringComparison.Ordinal);
        Assert.Contains("copyIndex()", name, StringComparison.Ordinal);
        Assert.Contains("length(flatten(map(parameters('workQueueNames')", queues.Element.GetProperty("copy").GetProperty("count").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_queues_made_are_the_ones_the_app_settings_name()
    {
        var storage = CompiledTemplate.Instance.Main.Template.GetProperty("resources").EnumerateArray()
            .Single(r => r.GetProperty("type").GetString() == "Microsoft.Resources/deployments" && r.GetProperty("name").GetString() == "storage");
        var app = CompiledTemplate.Instance.Single("Microsoft.Web/sites/config");

        Assert.Equal(
            ["[parameters('refreshQueueName')]", "[parameters('callbacksQueueName')]"],
            storage.GetProperty("properties").GetProperty("parameters").GetProperty("workQueueNames").GetProperty("value").EnumerateArray().Select(e => e.GetString()!));
        // The same main-template parameters reach the settings the triggers resolve (%RefreshQueueName%, %CallbacksQueueName%).
        Assert.Equal("[parameters('refreshQueueName')]", app.String("properties.RefreshQueueName"));
        Assert.Equal("[parameters('callbacksQueueName')]", app.String("properties.CallbacksQueueName"));
        Assert.Equal(app.String("properties.AzureWebJobsStorage__queueServiceUri"), app.String("properties.TagStorage__QueueServiceUri"));
    }
}
