using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace TagStatus.Functions;

public sealed class PingFunction
{
    [Function(nameof(PingFunction))]
    public IActionResult Run([HttpTrigger(AuthorizationLevel.Function, "get", Route = "ping")] HttpRequest request) => new OkResult();
}
