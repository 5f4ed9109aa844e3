using System.ComponentModel.DataAnnotations;

namespace TagStatus.Core.Storage;

/// <summary>Where tags are stored. Section <c>TagStorage</c>: a connection string (Azurite) or a table service URI (Azure, managed identity).</summary>
public sealed class TagStoreOptions : IValidatableObject
{
    public const string SectionName = "TagStorage";

    /// <summary>
    /// Every table the app uses, before the prefix (<c>UpstreamBudget</c> is the shared call budget's). The Bicep makes the
    /// same list in Azure (infra/main.bicep, <c>appTableNames</c>); the infra tests compare the two. Recipient month tables
    /// are made on their month's first write; the single <c>Recipients</c> table of earlier versions is no longer made: where
    /// it exists it is still read, and the retention run deletes it with the first expired month table.
    /// </summary>
    public static readonly IReadOnlyList<string> TableNames = ["Tags", "TagIndex", "Passes", SmsPartner.Budget.TableBudgetStore.TableName];

    public string? ConnectionString { get; set; }

    public Uri? TableServiceUri { get; set; }

    /// <summary>
    /// Prefix of the table names, so several deployments or test runs can share an account. Azure table names are 3-63
    /// letters and digits beginning with a letter; the longest name the prefix goes on (<c>UpstreamBudget</c>) stays within
    /// that at 20 characters.
    /// </summary>
    [RegularExpression("^([A-Za-z][A-Za-z0-9]{0,19})?$",
        ErrorMessage = "TagStorage:TablePrefix must be empty or begin with a letter and hold up to 20 letters and digits (Azure table names begin with a letter and hold only letters and digits).")]
    public string TablePrefix { get; set; } = string.Empty;

    /// <summary>
    /// Whether the app creates its tables and queues on first use. Unset: yes against a connection string (Azurite starts
    /// empty), no against the service URI (Azure, where the Bicep made them and the identity has data roles only).
    /// </summary>
    public bool? CreateIfMissing { get; set; }

    /// <summary>What <see cref="CreateIfMissing"/> comes to.</summary>
    public bool CreatesTablesAndQueues => CreateIfMissing ?? !string.IsNullOrWhiteSpace(ConnectionString);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(ConnectionString) == (TableServiceUri is null))
        {
            yield return new ValidationResult(
                "Set exactly one of TagStorage:ConnectionString (Azurite, local) and TagStorage:TableServiceUri (Azure, with the managed identity).",
                [nameof(ConnectionString), nameof(TableServiceUri)]);
        }
    }
}
