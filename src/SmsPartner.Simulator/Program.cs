namespace SmsPartner.Simulator;

/// <summary>Standalone entry point: <c>dotnet run --project src/SmsPartner.Simulator -- --urls http://127.0.0.1:5005</c>.</summary>
internal static class Program
{
    public static Task Main(string[] args) => SimulatorApp.Build(args).RunAsync();
}
