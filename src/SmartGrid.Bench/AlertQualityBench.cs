using System.Collections.Concurrent;
using System.Globalization;
using Npgsql;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Simulation;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Services.Notifications;
using SmartGrid.Simulator;
using SmartGrid.Storage;

namespace SmartGrid.Bench;

/// <summary>
/// `bench alert-quality`: the alerts of a real node (ingest, processor, services: HTTP ingestion →
/// pipeline → AlertManager → NotificationManager) measured against the simulator's ground truth.
/// <para>
/// The default grid (5,000 meters over the four default regions) runs time-compressed for --hours
/// of event time with the simulator's faults (<see cref="FaultSchedule"/>), then 15 minutes without
/// any. The truth is the fault schedule plus the genuine overloads: 1-minute windows whose load, from
/// the readings actually sent, is above the overload threshold.
/// </para>
/// <para>
/// Matching: an alert is <i>raised</i> at its first_seen_at (event time). It matches an injected fault
/// of the same meter and kind (ANOMALY spike ↔ spike, ANOMALY drop ↔ drop, OUTAGE ↔ outage) raised
/// within [fault start floored to the minute, fault end + grace]; a THRESHOLD alert matches an
/// overload episode (consecutive minutes above the threshold) of its region within [start, end + grace].
/// Precision = matched alerts ÷ alerts raised; recall = injected faults with a matching alert ÷ injected
/// faults. The floor to the minute is there because an anomaly is stamped with its window's start.
/// </para>
/// <para>
/// The node's wall-clock timers that drive event-time decisions (the outage check, reminders, digests) are
/// compressed by the same factor as event time, so compression neither hides outages from a check that runs too
/// rarely nor leaves reminders and digests out of the notification count.
/// </para>
/// <para>
/// A deployment runs on baselines learned long before any fault it is judged on, so the faults start after
/// --warmup-minutes of the same fleet without faults; what is raised during the warm-up is printed but not scored,
/// and notifications count from the first fault window on.
/// </para>
/// </summary>
internal static class AlertQualityBench
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan QuietTail = TimeSpan.FromMinutes(15);

    internal static readonly Option<int> Hours = BenchOptions.Int("--hours", 6, "hours of event time with faults");
    internal static readonly Option<int> Meters = BenchOptions.Int("--meters", 5_000, "simulated meters");
    internal static readonly Option<int> Rate = BenchOptions.Int("--rate", 6_000, "readings/s offered", minimum: 100);
    internal static readonly Option<int> StartUtcHour = BenchOptions.Int("--start-utc-hour", 12, "UTC hour the faults start at", minimum: 0, maximum: 23);
    internal static readonly Option<int> GraceMinutes = BenchOptions.Int("--grace-minutes", 5, "how late an alert may still match its fault", minimum: 0);
    internal static readonly Option<int> Seed = BenchOptions.Int("--seed", 1, "the simulator's seed", minimum: int.MinValue);
    internal static readonly Option<string?> Faults = new("--faults") { Description = "write the injected faults to this TSV file" };
    internal static readonly Option<int> WarmupMinutes = BenchOptions.Int("--warmup-minutes", 30, "minutes without faults before them, not scored", minimum: 0);
    internal static readonly Option<bool> KeepDatabase = new("--keep-database") { Description = "keep the run's database for inspection" };

    internal static async Task<int> RunAsync(ParseResult parse)
    {
        var hours = parse.GetValue(Hours);
        var meters = parse.GetValue(Meters);
        var rate = parse.GetValue(Rate);
        var grace = TimeSpan.FromMinutes(parse.GetValue(GraceMinutes));
        var seed = parse.GetValue(Seed);
        var faultsFile = parse.GetValue(Faults);
        var warmup = TimeSpan.FromMinutes(parse.GetValue(WarmupMinutes));
        var keepDatabase = parse.GetValue(KeepDatabase);

        var speed = rate * Interval.TotalSeconds / meters;
        var overload = OverloadRuleOptions.Default;
        var startHour = parse.GetValue(StartUtcHour);
        // In the past as a whole (the stream never waits for the wall clock), at the latest day's --start-utc-hour
        // that allows it: 12 UTC is 17:30 in India, so the evening peak and its overloads fall in the span.
        var latestStart = DateTimeOffset.UtcNow - TimeSpan.FromHours(hours) - QuietTail - TimeSpan.FromMinutes(20);
        var start = new DateTimeOffset(latestStart.UtcDateTime.Date, TimeSpan.Zero).AddHours(startHour);
        if (start > latestStart)
            start = start.AddDays(-1);
        var faultsEnd = start + TimeSpan.FromHours(hours);
        var end = faultsEnd + QuietTail + TimeSpan.FromMinutes(2);
        var simulation = new SimulationOptions { Seed = seed, MeterCount = meters, Interval = Interval };
        var faulty = new ReadingGenerator(MeterFleet.Create(simulation));
        // Same seed, same fleet and same noise: only the episodes are gone.
        var clean = new ReadingGenerator(MeterFleet.Create(simulation with { SpikesPerMeterPerDay = 0, DropsPerMeterPerDay = 0, OutagesPerMeterPerDay = 0 }));
        var faults = FaultSchedule.Between(faulty, start, faultsEnd);
        if (faultsFile is not null)
            await File.WriteAllLinesAsync(faultsFile, faults.Select(f => f.ToLine()).Prepend("meter_id\tregion\tkind\tstart\tend"));

        await using var database = await BenchDatabase.CreateAsync();
        database.Keep = keepDatabase;
        var ingestPort = FreePort.Next();
        var outageCheck = TimeSpan.FromSeconds(Math.Max(1, 60 / speed));
        TimeSpan Compressed(TimeSpan eventTime) => eventTime / speed;
        var notifications = new NotificationSettings();
        Console.WriteLine($"alert-quality bench: {meters:N0} meters, {warmup.TotalMinutes:0} min warm-up without faults, {hours} h of faults from {start:u} + " +
                          $"{QuietTail.TotalMinutes:0} min without, " +
                          $"{rate:N0} readings/s ({speed:0.#}× real time), seed {seed}, grace {grace.TotalMinutes:0} min, outage check every " +
                          $"{outageCheck.TotalSeconds:0.#} s, database {database.Name}");
        Console.WriteLine($"injected: {faults.Count(f => f.Kind == MeterCondition.Spike)} spikes, {faults.Count(f => f.Kind == MeterCondition.Drop)} drops, " +
                          $"{faults.Count(f => f.Kind == MeterCondition.Outage)} outages" + (faultsFile is null ? " (--faults FILE writes them)" : $" (written to {faultsFile})"));

        await using var node = await BenchNode.StartAsync(BenchNode.Args(database, broker: null, "ingest,processor,services", clusterPort: 0,
        [
            $"--SmartGrid:Http:IngestPort={ingestPort}",
            $"--SmartGrid:Services:Alerts:OutageCheckInterval={outageCheck:c}",
            $"--SmartGrid:Notifications:DigestInterval={Compressed(notifications.DigestInterval):c}",
            $"--SmartGrid:Notifications:EscalationCheckInterval={TimeSpan.FromSeconds(Math.Max(1, notifications.EscalationCheckInterval.TotalSeconds / speed)):c}",
            .. notifications.ReminderIntervals.Select(r => $"--SmartGrid:Notifications:ReminderIntervals:{r.Key}={Compressed(r.Value):c}"),
            "--Logging:LogLevel:Default=Warning",
        ]));
        var apiKey = await node.RegisterHeadEndAsync(faulty.Fleet, "bench alert-quality");
        await using var db = NpgsqlDataSource.Create(database.ConnectionString);
        var operators = await CreateOperatorsAsync(db);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var sink = new HttpTelemetrySink(http, new Uri($"http://127.0.0.1:{ingestPort}/telemetry/batch"), apiKey);
        var load = new TrueLoad();
        using var sender = new Sender(sink, rate, load);
        var clock = Stopwatch.StartNew();
        await sender.SendAsync(clean, start - warmup, start);
        var faultsFrom = DateTimeOffset.UtcNow;
        await sender.SendAsync(faulty, start, faultsEnd);
        await WaitForWindowsAsync(db, faultsEnd);
        var openAtFaultsEnd = (await OpenAlertsAsync(db)).Count;
        await sender.SendAsync(clean, faultsEnd, end);
        await WaitForWindowsAsync(db, end - TimeSpan.FromMinutes(2));
        var openAfterTail = await OpenAlertsAsync(db);
        Console.WriteLine($"sent {sender.Accepted:N0} readings in {clock.Elapsed.TotalMinutes:0.0} min ({sender.Failed:N0} not delivered)");

        var raised = await AlertsAsync(db, sender);
        var alerts = raised.Where(a => a.RaisedAt >= start).ToList();
        Console.WriteLine($"raised during the warm-up (not scored): {raised.Count - alerts.Count} " +
                          $"({string.Join(", ", raised.Where(a => a.RaisedAt < start).GroupBy(a => $"{a.Type} {a.Kind}".Trim()).Select(g => $"{g.Key} {g.Count()}"))})");
        var overloads = load.Episodes(faulty.Fleet.Options.Regions, overload.ThresholdPercent, Interval).Where(o => o.End > start).ToList();
        var report = Score(faults, overloads, alerts, grace);
        Print(report, alerts, overloads, openAtFaultsEnd, openAfterTail.Count, await NotificationsAsync(db, operators, faultsFrom), hours);
        PrintBreakdown(report.Unmatched, openAfterTail, faults, simulation.LocalOffset);
        return 0;
    }

    /// <param name="RaisedAt">first_seen_at: the event time the alert is about (an anomaly's window start).</param>
    /// <param name="KnownAt">The event time the simulator was sending when the alert's row was written: when an operator could know.</param>
    /// <param name="LastSeenAt">The newest occurrence's event time (an anomaly's newest anomalous window).</param>
    /// <param name="ExpectedKw">An anomaly's baseline and observed power (its newest occurrence's); null for other types.</param>
    private sealed record RaisedAlert(string Type, string Region, string? MeterId, string? Kind, string Severity, string Status, DateTimeOffset RaisedAt,
        DateTimeOffset KnownAt, DateTimeOffset LastSeenAt, double? ExpectedKw, double? ObservedKw)
    {
        public string Label => Kind is null ? Type : $"{Type} {Kind}";
    }

    private sealed record Overload(string Region, DateTimeOffset Start, DateTimeOffset End);

    private sealed record Report(int Matched, int Raised, int Recalled, int Injected, IReadOnlyList<double> DelaysMinutes,
        IReadOnlyDictionary<string, (int Matched, int Raised)> ByType, IReadOnlyDictionary<MeterCondition, (int Recalled, int Injected)> ByKind,
        int OverloadsAlerted, IReadOnlyList<RaisedAlert> Unmatched);

    private static Report Score(IReadOnlyList<InjectedFault> faults, IReadOnlyList<Overload> overloads, IReadOnlyList<RaisedAlert> alerts, TimeSpan grace)
    {
        static bool Within(DateTimeOffset at, DateTimeOffset from, DateTimeOffset to) => at >= from && at <= to;
        var byMeter = faults.ToLookup(f => f.MeterId);
        var recalled = new Dictionary<InjectedFault, TimeSpan>();
        var alertedOverloads = new HashSet<Overload>();
        var matched = 0;
        var byType = new Dictionary<string, (int Matched, int Raised)>();
        var unmatched = new List<RaisedAlert>();
        foreach (var alert in alerts)
        {
            var hit = false;
            if (alert.Type == "THRESHOLD")
            {
                foreach (var o in overloads.Where(o => o.Region == alert.Region && Within(alert.RaisedAt, o.Start, o.End + grace)))
                {
                    alertedOverloads.Add(o);
                    hit = true;
                }
            }
            else if (alert.MeterId is not null && KindOf(alert) is { } kind)
            {
                foreach (var fault in byMeter[alert.MeterId].Where(f => f.Kind == kind &&
                             Within(alert.RaisedAt, Window.Floor(f.Start, WindowSize.OneMinute), f.End + grace)))
                {
                    var delay = alert.KnownAt - fault.Start;
                    recalled[fault] = recalled.TryGetValue(fault, out var before) && before < delay ? before : delay;
                    hit = true;
                }
            }
            matched += hit ? 1 : 0;
            if (!hit)
                unmatched.Add(alert);
            var (m, r) = byType.GetValueOrDefault(alert.Type);
            byType[alert.Type] = (m + (hit ? 1 : 0), r + 1);
        }
        var byKind = faults.GroupBy(f => f.Kind).ToDictionary(g => g.Key, g => (g.Count(recalled.ContainsKey), g.Count()));
        return new Report(matched, alerts.Count, recalled.Count, faults.Count, recalled.Values.Select(d => d.TotalMinutes).Order().ToList(),
            byType, byKind, alertedOverloads.Count, unmatched);
    }

    private static MeterCondition? KindOf(RaisedAlert alert) => (alert.Type, alert.Kind) switch
    {
        ("ANOMALY", "spike") => MeterCondition.Spike,
        ("ANOMALY", "drop") => MeterCondition.Drop,
        ("OUTAGE", _) => MeterCondition.Outage,
        _ => null,
    };

    private static void Print(Report report, IReadOnlyList<RaisedAlert> alerts, IReadOnlyList<Overload> overloads, int openAtFaultsEnd, int openAfterTail,
        IReadOnlyList<(string Email, long Total, string Statuses)> notifications, int hours)
    {
        Console.WriteLine();
        Console.WriteLine($"{"alert type",-12} {"raised",7} {"matched",8}");
        foreach (var (type, (m, r)) in report.ByType.OrderBy(t => t.Key, StringComparer.Ordinal))
            Console.WriteLine($"{type,-12} {r,7} {m,8}");
        Console.WriteLine($"{"fault kind",-12} {"injected",8} {"alerted",8}");
        foreach (var (kind, (recalled, injected)) in report.ByKind.OrderBy(k => k.Key))
            Console.WriteLine($"{kind.ToString().ToLowerInvariant(),-12} {injected,8} {recalled,8}");
        Console.WriteLine($"{"overload",-12} {overloads.Count,8} {report.OverloadsAlerted,8}   (genuine overload episodes: minutes above the threshold by the readings sent)");
        Console.WriteLine($"severity of raised alerts: {string.Join(", ", alerts.GroupBy(a => a.Severity).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"))}");
        Console.WriteLine($"median detection delay: {Median(report.DelaysMinutes):0.0} min of event time (p90 {Percentiles.Of(report.DelaysMinutes, 90):0.0}; " +
                          "from the fault's start to the event time being sent when the alert row was written)");
        Console.WriteLine($"open alerts once every fault has ended: {openAtFaultsEnd}");
        Console.WriteLine($"open alerts 15 min after: {openAfterTail}");
        foreach (var (email, total, statuses) in notifications)
            Console.WriteLine($"notifications to {email}: {total / (double)hours:0.0} per simulated hour ({total} in all: {statuses})");
        Console.WriteLine($"notifications per operator per simulated hour: {(notifications.Count == 0 ? 0 : notifications.Average(n => n.Total) / hours):0.0}");
        Console.WriteLine(FormattableString.Invariant($"precision: {(report.Raised == 0 ? 0 : report.Matched / (double)report.Raised):0.000}"));
        Console.WriteLine(FormattableString.Invariant($"recall: {(report.Injected == 0 ? 0 : report.Recalled / (double)report.Injected):0.000}"));
    }

    /// <summary>
    /// Where precision and the open count were lost: alerts that matched no fault by kind and by simulated hour,
    /// and the alerts still open at the end, each with a few examples an engineer can look up in the kept database.
    /// </summary>
    private static void PrintBreakdown(IReadOnlyList<RaisedAlert> unmatched, IReadOnlyList<RaisedAlert> open, IReadOnlyList<InjectedFault> faults,
        TimeSpan localOffset)
    {
        var byMeter = faults.ToLookup(f => f.MeterId);
        string Hour(DateTimeOffset at) => $"{at:HH} UTC ({at.ToOffset(localOffset):HH:mm} local)";
        string Example(RaisedAlert a) =>
            $"    {a.Label} {a.MeterId ?? a.Region} {a.Severity} {a.Status}, {a.RaisedAt:HH:mm}–{a.LastSeenAt:HH:mm} UTC" +
            (a.ExpectedKw is { } expected ? FormattableString.Invariant($", observed {a.ObservedKw:0.000} kW vs expected {expected:0.000} kW") : "") +
            (a.MeterId is null || !byMeter[a.MeterId].Any() ? ", no fault of this meter" : $", faults of this meter: {string.Join("; ", byMeter[a.MeterId].Select(f => $"{f.Kind.ToString().ToLowerInvariant()} {f.Start:HH:mm}–{f.End:HH:mm}"))}");
        void Breakdown(string title, IReadOnlyList<RaisedAlert> alerts)
        {
            Console.WriteLine();
            Console.WriteLine($"{title}: {alerts.Count}");
            if (alerts.Count == 0)
                return;
            Console.WriteLine($"  by kind: {string.Join(", ", alerts.GroupBy(a => a.Label).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}"))}");
            Console.WriteLine("  by simulated hour raised:");
            foreach (var hour in alerts.GroupBy(a => new DateTimeOffset(a.RaisedAt.UtcDateTime.Date.AddHours(a.RaisedAt.UtcDateTime.Hour), TimeSpan.Zero)).OrderBy(g => g.Key))
                Console.WriteLine($"    {Hour(hour.Key)}: {hour.Count()} ({string.Join(", ", hour.GroupBy(a => a.Label).Select(g => $"{g.Key} {g.Count()}"))})");
            Console.WriteLine("  examples:");
            foreach (var kind in alerts.GroupBy(a => a.Label))
                foreach (var a in kind.Take(4))
                    Console.WriteLine(Example(a));
        }
        Breakdown("alerts that matched no fault", unmatched);
        Breakdown("alerts still open 15 min after the last fault", open);
    }

    private static double Median(IReadOnlyList<double> sorted) => Percentiles.Of(sorted, 50);

    /// <summary>One operator per region, notified by email (the NotificationManager's defaults otherwise).</summary>
    private static async Task<IReadOnlyList<(Guid Id, string Email)>> CreateOperatorsAsync(NpgsqlDataSource db)
    {
        var operators = new List<(Guid, string)>();
        foreach (var region in Regions.Defaults)
        {
            var id = Guid.NewGuid();
            var email = $"operator.{region.Name.ToLowerInvariant()}@bench.local";
            await using var command = db.CreateCommand(
                "INSERT INTO users (id, email, password_hash, role, operator_regions, email_verified) VALUES ($1, $2, 'not-a-login', 'OPERATOR', $3, true)");
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = email });
            command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [region.Name] });
            await command.ExecuteNonQueryAsync();
            operators.Add((id, email));
        }
        return operators;
    }

    /// <summary>
    /// Waits until every region's 1-minute windows reached <paramref name="until"/> (the pipeline caught
    /// up), then two checkpoint intervals more so the AlertManager has consumed them.
    /// </summary>
    private static async Task WaitForWindowsAsync(NpgsqlDataSource db, DateTimeOffset until)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromMinutes(3))
        {
            await using var command = db.CreateCommand(
                "SELECT count(*) FROM (SELECT region FROM regional_aggregates_1m GROUP BY region HAVING max(window_start) >= $1) r");
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = until - TimeSpan.FromMinutes(2) });
            if (Convert.ToInt32(await command.ExecuteScalarAsync()) >= Regions.Defaults.Count)
                break;
            await Task.Delay(1_000);
        }
        // The outage check runs on its own timer: give it a few rounds too.
        await Task.Delay(TimeSpan.FromSeconds(15));
    }

    private static Task<IReadOnlyList<RaisedAlert>> OpenAlertsAsync(NpgsqlDataSource db) =>
        ReadAlertsAsync(db, "WHERE status IN ('active', 'acknowledged')", _ => default);

    private static Task<IReadOnlyList<RaisedAlert>> AlertsAsync(NpgsqlDataSource db, Sender sender) => ReadAlertsAsync(db, "", sender.EventTimeAt);

    private static async Task<IReadOnlyList<RaisedAlert>> ReadAlertsAsync(NpgsqlDataSource db, string where, Func<DateTimeOffset, DateTimeOffset> knownAt)
    {
        await using var command = db.CreateCommand(
            "SELECT type, region, meter_id, metadata ->> 'kind', severity, status, first_seen_at, created_at, last_seen_at, " +
            $"(metadata ->> 'baseline_kw')::float8, (metadata ->> 'actual_kw')::float8 FROM alerts {where} ORDER BY first_seen_at");
        await using var reader = await command.ExecuteReaderAsync();
        var alerts = new List<RaisedAlert>();
        while (await reader.ReadAsync())
            alerts.Add(new RaisedAlert(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetFieldValue<DateTimeOffset>(6),
                knownAt(reader.GetFieldValue<DateTimeOffset>(7)), reader.GetFieldValue<DateTimeOffset>(8),
                reader.IsDBNull(9) ? null : reader.GetDouble(9), reader.IsDBNull(10) ? null : reader.GetDouble(10)));
        return alerts;
    }

    private static async Task<IReadOnlyList<(string Email, long Total, string Statuses)>> NotificationsAsync(NpgsqlDataSource db,
        IReadOnlyList<(Guid Id, string Email)> operators, DateTimeOffset since)
    {
        var result = new List<(string, long, string)>();
        foreach (var (id, email) in operators)
        {
            await using var command = db.CreateCommand("SELECT status, count(*) FROM notification_log WHERE user_id = $1 AND created_at >= $2 GROUP BY status ORDER BY status");
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = since });
            await using var reader = await command.ExecuteReaderAsync();
            var statuses = new List<string>();
            long total = 0;
            while (await reader.ReadAsync())
            {
                // An item waiting for (or sent in) a digest is a line of one email, not a message of its own: the digest row counts.
                if (reader.GetString(0) is not ("queued_digest" or "digested"))
                    total += reader.GetInt64(1);
                statuses.Add($"{reader.GetString(0)} {reader.GetInt64(1)}");
            }
            result.Add((email, total, statuses.Count == 0 ? "none" : string.Join(", ", statuses)));
        }
        return result;
    }

    /// <summary>Sends ticks in batches of 500, at most 8 in flight, paced to the rate, retrying a batch until it is delivered.</summary>
    private sealed class Sender(ITelemetrySink sink, int rate, TrueLoad load) : IDisposable
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Stopwatch _progress = Stopwatch.StartNew();
        private readonly SemaphoreSlim _slots = new(8, 8);
        private long _scheduled;
        private long _accepted;
        private long _failed;

        private readonly List<(DateTimeOffset Wall, DateTimeOffset Tick)> _sentAt = [];

        public long Accepted => Interlocked.Read(ref _accepted);

        public void Dispose() => _slots.Dispose();

        /// <summary>The event time being sent at a wall-clock moment (the newest tick started by then).</summary>
        public DateTimeOffset EventTimeAt(DateTimeOffset wall)
        {
            var index = _sentAt.BinarySearch((wall, DateTimeOffset.MaxValue), Comparer<(DateTimeOffset Wall, DateTimeOffset Tick)>.Create((a, b) => a.Wall.CompareTo(b.Wall)));
            index = index >= 0 ? index : ~index - 1;
            return index < 0 ? _sentAt[0].Tick : _sentAt[index].Tick;
        }
        public long Failed => Interlocked.Read(ref _failed);

        public async Task SendAsync(ReadingGenerator generator, DateTimeOffset from, DateTimeOffset to)
        {
            _clock.Restart();
            _scheduled = 0;
            for (var tick = from; tick < to; tick += Interval)
            {
                var readings = generator.ReadingsAt(tick);
                load.Add(readings);
                _sentAt.Add((DateTimeOffset.UtcNow, tick));
                if (_progress.Elapsed >= TimeSpan.FromSeconds(30))
                {
                    Console.WriteLine($"  {DateTimeOffset.UtcNow:HH:mm:ss} event time {tick:HH:mm}, {Accepted:N0} readings accepted");
                    _progress.Restart();
                }
                foreach (var batch in readings.Chunk(500))
                {
                    var due = TimeSpan.FromSeconds(_scheduled / (double)rate) - _clock.Elapsed;
                    if (due > TimeSpan.Zero)
                        await Task.Delay(due);
                    await _slots.WaitAsync();
                    _scheduled += batch.Length;
                    _ = DeliverAsync(batch);
                }
            }
            for (var i = 0; i < 8; i++)
                await _slots.WaitAsync();
            _slots.Release(8);
        }

        private async Task DeliverAsync(TelemetryReading[] batch)
        {
            try
            {
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        Interlocked.Add(ref _accepted, (await sink.SendAsync(batch, CancellationToken.None)).Accepted);
                        return;
                    }
                    // The truth assumes every reading arrives: a lost batch would look like an outage of 500 meters.
                    catch (Exception e) when (attempt < 120)
                    {
                        if (attempt % 10 == 0)
                            Console.Error.WriteLine($"batch of {batch.Length} not delivered after {attempt} tries, still trying: {e.Message}");
                        await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5_000, 250 * attempt)));
                    }
                }
            }
            catch (Exception e)
            {
                Interlocked.Add(ref _failed, batch.Length);
                Console.Error.WriteLine($"batch of {batch.Length} lost: {e.Message}");
            }
            finally
            {
                _slots.Release();
            }
        }
    }

    /// <summary>Each region's true load per minute from the readings sent: mean power over the minute's ticks ÷ capacity.</summary>
    private sealed class TrueLoad
    {
        private readonly ConcurrentDictionary<(string Region, DateTimeOffset Minute), double> _powerKw = new();

        public void Add(IReadOnlyList<TelemetryReading> readings)
        {
            foreach (var reading in readings)
                _powerKw.AddOrUpdate((reading.Region!, Window.Floor(reading.Timestamp, WindowSize.OneMinute)), reading.PowerKw, (_, sum) => sum + reading.PowerKw);
        }

        public List<Overload> Episodes(IReadOnlyList<RegionSpec> regions, double thresholdPercent, TimeSpan interval)
        {
            var ticksPerMinute = TimeSpan.FromMinutes(1) / interval;
            var episodes = new List<Overload>();
            foreach (var region in regions)
            {
                Overload? open = null;
                foreach (var (minute, sum) in _powerKw.Where(p => p.Key.Region == region.Name).Select(p => (p.Key.Minute, p.Value)).OrderBy(p => p.Minute))
                {
                    var above = sum / ticksPerMinute / region.CapacityKw * 100 > thresholdPercent;
                    if (above && open is not null && open.End == minute)
                        open = open with { End = minute.AddMinutes(1) };
                    else if (above)
                    {
                        if (open is not null)
                            episodes.Add(open);
                        open = new Overload(region.Name, minute, minute.AddMinutes(1));
                    }
                }
                if (open is not null)
                    episodes.Add(open);
            }
            return episodes;
        }
    }
}
