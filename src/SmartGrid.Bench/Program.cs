using SmartGrid.Bench;

// Benchmarks, one subcommand each: dotnet run -c Release --project src/SmartGrid.Bench -- <command> [options]
var commands = new Dictionary<string, (string Help, Func<string[], Task<int>> Run)>(StringComparer.OrdinalIgnoreCase)
{
    ["kafka"] = ("kafka [--messages N] [--partitions N] [--rounds N] [--batch N] [--consumer-property key=value]: raw Confluent consume loop vs our CommittablePartitionedSource + Committer",
        KafkaBench.RunAsync),
    ["pipeline"] = ("pipeline [--meters N] [--step-seconds N] (BENCH_RATES=2000,5000,...): sustained readings/s end to end, ack and window→row latency, memory",
        PipelineBench.RunAsync),
    ["recovery"] = ("recovery [--meters N] [--readings N] [--parallelism N]: restart a processor node and time until every meter has recovered its state", RecoveryBench.RunAsync),
    ["redis-outage"] = ("redis-outage [--requests N]: gateway latency per route with Redis up, then with its server killed (the fallbacks' added cost)",
        RedisOutageBench.RunAsync),
    ["scale"] = ("scale [--meters N (1,000,000)] [--readings N] [--failover] | scale --soak [--meters N (50,000)] [--minutes N]: a utility's fleet: registration, " +
        "sustained readings/s, heap and RSS per meter, restart and failover after SIGKILL, PostgreSQL bytes per meter; --soak: lag and memory every 30 s", ScaleBench.RunAsync),
    ["meters"] = ("meters [--meters N] [--minutes N]: managed heap bytes per meter with warm state (de-duplication horizon, windows, baseline)", MeterBench.RunAsync),
    ["admission"] = ("admission [--meters N] [--batches N]: cost of the ingestion key check and the registry's region rule per batch of 500, one thread",
        AdmissionBench.RunAsync),
    ["alerts"] = ("alerts [--meters N] [--bursts N] [--interval-ms N]: anomaly → alert row latency (p50/p95/p99) at the seed's anomaly load", AlertBench.RunAsync),
    ["alert-quality"] = ("alert-quality [--hours N] [--meters N] [--rate N] [--start-utc-hour H] [--grace-minutes N] [--seed N] [--faults FILE] [--warmup-minutes N] [--keep-database]: alerts of a real node against the simulator's injected faults: precision, recall, delay, open alerts, notifications",
        AlertQualityBench.RunAsync),
    ["escalation"] = ("escalation [--alerts N] [--rounds N]: the NotificationManager's reminder/escalation check over N unacknowledged alerts: nothing due, then a reminder due on each",
        EscalationBench.RunAsync),
    ["revocation"] = ("revocation [--cached N] [--uncached N] [--fallback N]: cost of the per-request session revocation check: process cache, Redis, PostgreSQL fallback",
        RevocationBench.RunAsync),
    ["generator"] = ("generator [--ticks N] [--rate N] [--seconds N]: ms per simulator tick of the 5,000-meter fleet, and a rate-capped run's achieved rate against its cap",
        GeneratorBench.RunAsync),
    ["faults"] = ("faults [--from ISO-8601] [--minutes N (60)] [--meters N (5,000)] [--seed N (1)]: the simulator's ground truth: every spike, drop, outage (with or without a last gasp), sag, swell and drift of the span, as TSV",
        FaultsCommand.RunAsync),
};

if (args.Length == 0 || !commands.TryGetValue(args[0], out var command))
{
    Console.Error.WriteLine("usage: SmartGrid.Bench <command> [options]");
    foreach (var (_, (help, _)) in commands)
        Console.Error.WriteLine($"  {help}");
    return args.Length == 0 ? 0 : 2;
}

return await command.Run(args[1..]);
