using SmartGrid.Domain.Telemetry;
using SmartGrid.Kafka;

namespace SmartGrid.Node;

/// <summary>
/// The Kafka bootstrap servers this node talks to. "embedded" starts librdkafka's mock cluster
/// in this process (development and tests) with the seed's topics, and writes its random
/// address to a file so kcat and other processes can reach it.
/// </summary>
public sealed class KafkaEndpoint : IDisposable
{
    private readonly EmbeddedKafkaBroker? _broker;
    private readonly string? _bootstrapFile;

    private KafkaEndpoint(string bootstrapServers, EmbeddedKafkaBroker? broker, string? bootstrapFile = null)
    {
        BootstrapServers = bootstrapServers;
        _broker = broker;
        _bootstrapFile = bootstrapFile;
    }

    public string BootstrapServers { get; }
    public bool IsEmbedded => _broker is not null;

    public static KafkaEndpoint Resolve(SmartGridOptions.KafkaSettings settings)
    {
        if (!string.Equals(settings.BootstrapServers, "embedded", StringComparison.OrdinalIgnoreCase))
            return new KafkaEndpoint(settings.BootstrapServers, null);
        var broker = EmbeddedKafkaBroker.Start(Topics.All);
        var file = Path.GetFullPath(settings.BootstrapFile);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, broker.BootstrapServers);
        return new KafkaEndpoint(broker.BootstrapServers, broker, file);
    }

    /// <summary>Stops an embedded broker and removes its address file, so no tool finds a dead address.</summary>
    public void Dispose()
    {
        _broker?.Dispose();
        if (_bootstrapFile is not null) File.Delete(_bootstrapFile);
    }
}
