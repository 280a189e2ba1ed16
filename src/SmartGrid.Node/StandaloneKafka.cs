using SmartGrid.Domain.Telemetry;
using SmartGrid.Kafka;

namespace SmartGrid.Node;

/// <summary>`./build.sh kafka`: one embedded broker process that several nodes share.</summary>
public static class StandaloneKafka
{
    public static async Task<int> RunAsync(string[] args)
    {
        var file = ".data/kafka/bootstrap";
        for (var i = 0; i < args.Length - 1; i++)
            if (args[i] == "--bootstrap-file") file = args[i + 1];
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cts.Cancel();
        await EmbeddedKafkaBroker.RunStandaloneAsync(Topics.All, file, cts.Token);
        return 0;
    }
}
