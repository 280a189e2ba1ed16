using Akka.Actor;
using Akka.Hosting;
using SmartGrid.Actors.Metering;
using SmartGrid.Actors.Persistence;
using SmartGrid.Domain.Metering;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Actors.Tests;

/// <summary>
/// A fleet of meters recovering at once, as after a restart or when passivated meters wake: each bucket
/// loads a group's meters together, the batched reads answer all buckets with a few statements, and
/// every meter still ends with exactly its own state (snapshot, events after it, or both).
/// </summary>
public sealed class BatchedRecoverySpecs(ActorDatabase database, ITestOutputHelper output) : ActorSpec(database, output)
{
    private const int Meters = 2_000;
    private readonly ITestOutputHelper _output = output;
    private static readonly DateTimeOffset Noon = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private static readonly MeterPolicy Policy = new();

    /// <summary>
    /// The meters of every fourth bucket snapshot after each write, of one in four every second write (so events follow
    /// their snapshot), the rest never.
    /// </summary>
    private static int SnapshotEvery(string bucket) => (int.Parse(bucket, System.Globalization.CultureInfo.InvariantCulture) % 4) switch { 0 => 1, 1 => 2, _ => 100 };

    private static string MeterId(int meter) => $"MTR-R{meter:D7}";

    private static string BucketOf(int meter) => MeterMessageExtractor.ShardOf(MeterId(meter));

    private Dictionary<string, IActorRef> Buckets(IEnumerable<string> buckets) => buckets.ToDictionary(b => b,
        b => Sys.ActorOf(MeterBucket.Props(b, Policy, TimeSpan.FromHours(1), SnapshotEvery(b), TimeSpan.FromHours(1))));

    /// <summary>One group per bucket, as the telemetry stream sends them: every meter of the bucket with its readings.</summary>
    private static RecordReadings Group(string bucket, IEnumerable<int> meters, Func<int, TelemetryReading[]> readings) =>
        new(bucket, meters.Select(m => new MeterReadings(MeterId(m), readings(m))).ToList());

    private static TelemetryReading[] Readings(int meter, int checkpoint) =>
        Enumerable.Range(0, 1 + meter % 5).Select(i => new TelemetryReading
        {
            MeterId = MeterId(meter), Timestamp = Noon.AddSeconds(100 * checkpoint + 10 * i), Voltage = 230, Current = 4, PowerKw = 0.9 + meter % 7,
            EnergyKwh = 0.0025, PowerFactor = 0.95, Frequency = 50, Region = "Pune-West",
        }).ToArray();

    private static int Checkpoints(int meter) => 1 + meter % 3;

    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider)
    {
        base.ConfigureAkka(builder, provider);
        // The spec holds the tables locked while the fleet asks: Akka's 10 s call and 30 s recovery timeouts would fail the reads first.
        // Thousands of snapshot saves at once wait for the plugin's connection pool, and on a loaded machine some fail: the
        // breaker must not open on them and refuse the loads that follow.
        builder.AddHocon("""
            akka.persistence {
              journal.sql.circuit-breaker { call-timeout = 300s, max-failures = 100000 }
              snapshot-store.sql.circuit-breaker { call-timeout = 300s, max-failures = 100000 }
              journal.sql.recovery-event-timeout = 300s
            }
            """, HoconAddMode.Prepend);
    }

    [Fact]
    public async Task Should_recover_thousands_of_meters_at_once_in_a_few_statements_each_with_exactly_its_own_readings()
    {
        var ct = TestContext.Current.CancellationToken;
        var meters = Enumerable.Range(0, Meters).ToArray();
        var byBucket = meters.GroupBy(BucketOf).ToDictionary(g => g.Key, g => g.ToArray());
        var first = Buckets(byBucket.Keys);
        await Parallel.ForEachAsync(byBucket, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct }, async (bucket, _) =>
        {
            for (var c = 0; c < 3; c++)
            {
                var checkpoint = c;
                var recorded = await first[bucket.Key].Ask<ReadingsRecorded>(
                    Group(bucket.Key, bucket.Value.Where(m => checkpoint < Checkpoints(m)), m => Readings(m, checkpoint)), Patience, ct);
                Assert.IsType<ReadingsCheckpointed>(await first[bucket.Key].Ask<object>(new CheckpointReadings(bucket.Key, recorded.Incarnation), Patience, ct));
            }
        });
        var watcher = CreateTestProbe();
        foreach (var bucket in first.Values)
        {
            watcher.Watch(bucket);
            bucket.Tell(PoisonPill.Instance);
        }
        for (var i = 0; i < first.Count; i++) await watcher.ExpectMsgAsync<Terminated>(Patience, cancellationToken: ct);
        // The snapshots the first instances asked for are written after they stopped: let them land before the tables are locked.
        var snapshots = -1L;
        await AwaitConditionAsync(async () => snapshots == (snapshots = await Database.SnapshotCountAsync()), TimeSpan.FromMinutes(3),
            TimeSpan.FromSeconds(2), cancellationToken: ct);
        var batching = RecoveryBatching.For(Sys);
        var before = Enum.GetValues<RecoveryBatching.Read>().ToDictionary(r => r, batching.Count);

        // All at once, while the database lags behind (the tables locked): each bucket's group of every meter it holds,
        // its newest readings again (duplicates), answered only once the meters are loaded.
        var snapshotsLocked = await Database.LockAsync("snapshot");
        var journalLocked = await Database.LockAsync("journal");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var second = Buckets(byBucket.Keys);
        var replayed = Task.WhenAll(byBucket.Select(bucket => second[bucket.Key].Ask<ReadingsRecorded>(
            Group(bucket.Key, bucket.Value, m => Readings(m, Checkpoints(m) - 1)), TimeSpan.FromMinutes(5), ct)));
        await AwaitAskedAsync(RecoveryBatching.Read.Snapshot);
        await snapshotsLocked.DisposeAsync();
        await AwaitAskedAsync(RecoveryBatching.Read.HighestSequenceNr);
        await journalLocked.DisposeAsync();
        Assert.All(await replayed, r => Assert.Equal((0, r.Duplicates), (r.Accepted, byBucket[r.BucketId].Sum(m => 1 + m % 5))));
        var statuses = await Task.WhenAll(meters.Select(m => second[BucketOf(m)].Ask<MeterStatus>(new GetMeterStatus(MeterId(m)), Patience, ct)));
        _output.WriteLine($"{Meters} meters recovered in {clock.Elapsed.TotalSeconds:0.00} s");

        Assert.All(meters, m => Assert.Equal(
            (MeterId(m), (long)Checkpoints(m) * (1 + m % 5), Noon.AddSeconds(100 * (Checkpoints(m) - 1) + 10 * (m % 5))),
            (statuses[m].MeterId, statuses[m].AcceptedTotal, statuses[m].LastReadingAt)));
        var reads = Enum.GetValues<RecoveryBatching.Read>().ToDictionary(r => r, r =>
        {
            var (_, requests, statements) = batching.Count(r);
            return (Requests: requests - before[r].Requests, Statements: statements - before[r].Statements);
        });
        foreach (var (read, (requests, statements)) in reads)
            _output.WriteLine($"{read}: {requests} request(s) in {statements} statement(s)");
        // One statement per meter would be the plugin's own way; the reads that waited for the database go a thousand to a statement.
        Assert.Equal(Meters, reads[RecoveryBatching.Read.Snapshot].Requests);
        Assert.InRange(reads[RecoveryBatching.Read.Snapshot].Statements, 1, Meters / 100);
        Assert.Equal(Meters, reads[RecoveryBatching.Read.HighestSequenceNr].Requests);
        Assert.InRange(reads[RecoveryBatching.Read.HighestSequenceNr].Statements, 1, Meters / 100);
        // Meters without a snapshot, at least half of them, replay their events; these reads met no lock, but came together still.
        Assert.InRange(reads[RecoveryBatching.Read.Events].Requests, Meters / 2, Meters);
        Assert.InRange(reads[RecoveryBatching.Read.Events].Statements, 1, reads[RecoveryBatching.Read.Events].Requests - 1);

        // Exactly once across the recovery: what each had is a duplicate, the next readings are new, and the new instance checkpoints them.
        await Parallel.ForEachAsync(byBucket, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct }, async (bucket, _) =>
        {
            var again = await second[bucket.Key].Ask<ReadingsRecorded>(
                Group(bucket.Key, bucket.Value, m => [.. Readings(m, Checkpoints(m) - 1), .. Readings(m, Checkpoints(m))]), Patience, ct);
            var expected = bucket.Value.Sum(m => 1 + m % 5);
            Assert.Equal((expected, expected, 0), (again.Accepted, again.Duplicates, again.TooLate));
            Assert.IsType<ReadingsCheckpointed>(await second[bucket.Key].Ask<object>(new CheckpointReadings(bucket.Key, again.Incarnation), Patience, ct));
        });
        return;

        Task AwaitAskedAsync(RecoveryBatching.Read read) => AwaitConditionAsync(
            () => Task.FromResult(batching.Count(read).Asked - before[read].Asked >= Meters), TimeSpan.FromMinutes(3), cancellationToken: ct);
    }
}
