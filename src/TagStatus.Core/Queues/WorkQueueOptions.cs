using System.ComponentModel.DataAnnotations;

namespace TagStatus.Core.Queues;

/// <summary>
/// The Storage queues the work fans out on. Their names are flat app settings (<c>RefreshQueueName</c>,
/// <c>CallbacksQueueName</c>) because the Functions queue triggers name them as <c>%RefreshQueueName%</c>, like the
/// timer's <c>%RefreshSchedule%</c>; Core reads the same settings, so both sides always agree.
/// </summary>
public sealed class WorkQueueOptions : IValidatableObject
{
    public const string RefreshQueueSetting = "RefreshQueueName";
    public const string CallbacksQueueSetting = "CallbacksQueueName";

    public string RefreshQueue { get; set; } = "tagstatus-refresh";

    public string CallbacksQueue { get; set; } = "tagstatus-callbacks";

    /// <summary>
    /// Where the queues live: <c>TagStorage:QueueServiceUri</c> with the managed identity in Azure; locally the queue
    /// endpoint of <c>TagStorage:ConnectionString</c> (Azurite).
    /// </summary>
    public Uri? QueueServiceUri { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (setting, name) in new[] { (RefreshQueueSetting, RefreshQueue), (CallbacksQueueSetting, CallbacksQueue) })
        {
            // Azure's queue name rules: 3-63 characters, lowercase letters, digits and single inner hyphens.
            if (name is not { Length: >= 3 and <= 63 } || !name.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-')
                || name.StartsWith('-') || name.EndsWith('-') || name.Contains("--", StringComparison.Ordinal))
            {
                yield return new ValidationResult(
                    $"{setting} '{name}' is not a queue name: 3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.",
                    [setting]);
            }
        }

        if (RefreshQueue == CallbacksQueue)
        {
            yield return new ValidationResult($"{RefreshQueueSetting} and {CallbacksQueueSetting} must name two different queues.", [CallbacksQueueSetting]);
        }
    }
}
