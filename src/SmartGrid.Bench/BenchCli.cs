
namespace SmartGrid.Bench;

/// <summary>
/// The benches' command line: each bench declares its options (name, default, description); this is the list of
/// commands and what each measures.
/// </summary>
internal static class BenchCli
{
    public static RootCommand Root() => new("Benchmarks, one subcommand each: dotnet run -c Release --project src/SmartGrid.Bench -- <command> [options]")
    {
        BenchOptions.Command("kafka", "raw Confluent consume loop vs our CommittablePartitionedSource + Committer",
            KafkaBench.RunAsync, KafkaBench.Messages, KafkaBench.Partitions, KafkaBench.Rounds, KafkaBench.Batch, KafkaBench.ConsumerProperty),
        BenchOptions.Command("pipeline", "sustained readings/s end to end, ack and window→row latency, memory",
            PipelineBench.Meters, PipelineBench.StepSeconds, PipelineBench.RunAsync),
        BenchOptions.Command("recovery", "restart a processor node and time until every meter has recovered its state",
            RecoveryBench.Meters, RecoveryBench.Readings, RecoveryBench.Parallelism, RecoveryBench.RunAsync),
        BenchOptions.Command("redis-outage", "gateway latency per route with Redis up, then with its server killed (the fallbacks' added cost)",
            RedisOutageBench.Requests, RedisOutageBench.RunAsync),
        BenchOptions.Command("scale", "a utility's fleet: registration, sustained readings/s, heap and RSS per meter, restart and failover " +
            "after SIGKILL, PostgreSQL bytes per meter; --soak: lag and memory every 30 s",
            ScaleBench.RunAsync, ScaleBench.Meters, ScaleBench.Readings, ScaleBench.Failover, ScaleBench.Soak, ScaleBench.Minutes, ScaleBench.Session, ScaleBench.Tick,
            ScaleBench.ThroughputOnly),
        BenchOptions.Command("meters", "managed heap bytes per meter with warm state (de-duplication horizon, windows, baseline)",
            MeterBench.Meters, MeterBench.Minutes, MeterBench.RunAsync),
        BenchOptions.Command("meter-buckets", "managed heap bytes per meter in memory in a node: state, its bucket's entry, shard maps",
            MeterBucketBench.Meters, MeterBucketBench.Readings, MeterBucketBench.Hold, MeterBucketBench.RunAsync),
        BenchOptions.Command("admission", "cost of the ingestion key check and the registry's region rule per batch of 500, one thread",
            AdmissionBench.Meters, AdmissionBench.Batches, AdmissionBench.RunAsync),
        BenchOptions.Command("alerts", "anomaly → alert row latency (p50/p95/p99) at the seed's anomaly load",
            AlertBench.Meters, AlertBench.Bursts, AlertBench.IntervalMs, AlertBench.RunAsync),
        BenchOptions.Command("alert-quality",
            "alerts of a real node against the simulator's injected faults: precision, recall, delay, open alerts, notifications",
            AlertQualityBench.RunAsync, AlertQualityBench.Hours, AlertQualityBench.Meters, AlertQualityBench.Rate, AlertQualityBench.StartUtcHour,
            AlertQualityBench.GraceMinutes, AlertQualityBench.Seed, AlertQualityBench.Faults, AlertQualityBench.WarmupMinutes, AlertQualityBench.KeepDatabase),
        BenchOptions.Command("escalation",
            "the NotificationManager's reminder/escalation check over N unacknowledged alerts: nothing due, then a reminder due on each",
            EscalationBench.Alerts, EscalationBench.Rounds, EscalationBench.RunAsync),
        BenchOptions.Command("revocation", "cost of the per-request session revocation check: process cache, Redis, PostgreSQL fallback",
            RevocationBench.Cached, RevocationBench.Uncached, RevocationBench.Fallback, RevocationBench.RunAsync),
        BenchOptions.Command("generator", "ms per simulator tick of the 5,000-meter fleet, and a rate-capped run's achieved rate against its cap",
            GeneratorBench.Ticks, GeneratorBench.Rate, GeneratorBench.Seconds, GeneratorBench.RunAsync),
        BenchOptions.Command("faults", "the simulator's ground truth: every spike, drop, outage (with or without a last gasp), sag, swell and " +
            "drift of the span, as TSV", FaultsCommand.RunAsync, FaultsCommand.From, FaultsCommand.Minutes, FaultsCommand.Meters, FaultsCommand.Seed),
    };

    /// <summary>
    /// Runs the bench <paramref name="args"/> name; a usage error prints what is wrong and returns
    /// <see cref="BenchOptions.UsageError"/> before anything runs.
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var root = Root();
        var parse = root.Parse(args.Length == 0 ? ["--help"] : args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
                Console.Error.WriteLine(error.Message);
            var command = parse.CommandResult.Command == root ? "" : $" {parse.CommandResult.Command.Name}";
            Console.Error.WriteLine($"see: SmartGrid.Bench{command} --help");
            return BenchOptions.UsageError;
        }
        return await parse.InvokeAsync();
    }
}
