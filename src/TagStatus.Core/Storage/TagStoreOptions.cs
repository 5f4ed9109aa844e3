using System.ComponentModel.DataAnnotations;

namespace TagStatus.Core.Storage;

/// <summary>Where tags are stored. Section <c>TagStorage</c>: a connection string (Azurite) or a table service URI (Azure, managed identity).</summary>
public sealed class TagStoreOptions : IValidatableObject
{
    public const string SectionName = "TagStorage";

    public string? ConnectionString { get; set; }

    public Uri? TableServiceUri { get; set; }

    /// <summary>Prefix of the table names, letters and digits only, so several deployments or test runs can share an account.</summary>
    [RegularExpression("^[A-Za-z0-9]{0,20}$", ErrorMessage = "TagStorage:TablePrefix may hold up to 20 letters and digits.")]
    public string TablePrefix { get; set; } = string.Empty;

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
