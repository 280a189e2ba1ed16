using Npgsql;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Ingestion;
using SmartGrid.Simulator;
using SmartGrid.Storage;

namespace SmartGrid.Bench;

/// <summary>
/// `bench admission`: what an ingestion key and the registry's regions cost a batch, alone: the
/// key checked from its cache and each reading's region resolved against the registry (the steady
/// state, every meter known), on one thread. Prints µs per batch of 500 and the readings/s one core
/// could admit, i.e. the headroom this step leaves the 20K readings/s ingest target.
/// </summary>
internal static class AdmissionBench
{
    internal static readonly Option<int> Meters = BenchOptions.Int("--meters", 5_000, "registered meters");
    internal static readonly Option<int> Batches = BenchOptions.Int("--batches", 4_000, "timed batches of 500");

    internal static async Task<int> RunAsync(int meters, int batches)
    {
        const int batchSize = 500;

        await using var database = await BenchDatabase.CreateMigratedAsync();
        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        await RegionCatalog.SeedIfEmptyAsync(dataSource, Regions.Defaults);
        var registry = new MeterRegistry(dataSource);
        var generator = SimulatorRun.CreateGenerator(new SimulatorOptions { Meters = meters });
        await registry.EnsureRegisteredAsync(generator.Fleet.Meters.Select(m => (m.MeterId, m.Region)));
        var keys = new IngestionKeys(dataSource);
        var (_, secret) = await keys.CreateAsync("bench admission", null, canProvision: false, "bench");
        var admission = new MeterAdmission(registry, new RegionCatalog(dataSource), new IngestionOptions(), TimeProvider.System);

        var readings = generator.ReadingsAt(generator.AlignToTick(DateTimeOffset.UtcNow.AddMinutes(-5)));
        var indexes = Enumerable.Range(0, batchSize).ToList();
        var slices = Enumerable.Range(0, readings.Count / batchSize).Select(i => readings.Skip(i * batchSize).Take(batchSize).ToList()).ToList();
        async Task<int> AdmitAsync(int i)
        {
            var key = await keys.AuthenticateAsync(secret) ?? throw new InvalidOperationException("key not found");
            var refused = new List<RecordResult>();
            var admitted = await admission.AdmitAsync(slices[i % slices.Count], indexes, key, refused, CancellationToken.None);
            return refused.Count == 0 ? admitted.Readings.Count : throw new InvalidOperationException(string.Join("; ", refused.SelectMany(r => r.Errors)));
        }

        for (var i = 0; i < 200; i++)
            await AdmitAsync(i); // warm-up: caches filled, code jitted
        var clock = Stopwatch.StartNew();
        long admittedTotal = 0;
        for (var i = 0; i < batches; i++)
            admittedTotal += await AdmitAsync(i);
        var elapsed = clock.Elapsed;
        Console.WriteLine($"admission bench: {meters} registered meters, {batches} batches of {batchSize}, one thread, {Environment.ProcessorCount} cores");
        Console.WriteLine($"per batch: {elapsed.TotalMicroseconds / batches:F0} µs (key check + region resolution of {batchSize} readings)");
        Console.WriteLine($"admitted readings/s on one core: {admittedTotal / elapsed.TotalSeconds:F0}");
        return 0;
    }
}
