using System.Security.Cryptography;
using System.Text;

namespace TagStatus.LocalHost;

/// <summary>
/// The one key of the local host (<c>LocalHost:FunctionKey</c>), checked like a Functions key: header
/// <c>x-functions-key</c> or query <c>code</c>. Without a configured key every call is let through, as under
/// <c>func start</c>, which does not check keys either.
/// </summary>
public sealed class FunctionKeyCheck(IConfiguration configuration)
{
    public const string Setting = "LocalHost:FunctionKey";

    private readonly byte[]? _key = string.IsNullOrEmpty(configuration[Setting]) ? null : Encoding.UTF8.GetBytes(configuration[Setting]!);

    public bool Enabled => _key is not null;

    public bool Allows(HttpRequest request)
    {
        if (_key is null)
        {
            return true;
        }

        var given = request.Headers["x-functions-key"].FirstOrDefault() ?? request.Query["code"].FirstOrDefault();
        return given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), _key);
    }
}
