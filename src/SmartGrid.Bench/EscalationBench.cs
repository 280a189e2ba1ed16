using Akka.Actor;
using Akka.Configuration;
using Npgsql;
using SmartGrid.Channels;
using SmartGrid.Services.Notifications;
using SmartGrid.Storage;

namespace SmartGrid.Bench;

/// <summary>
/// `bench escalation`: what the NotificationManager's reminder and escalation timer costs over N unacknowledged alerts on a
/// fresh database: a check with nothing due (what every EscalationCheckInterval costs in steady state), then one with a
/// reminder due on every alert (each step: its recipients resolved, logged, the step recorded). The recipient mutes these
/// alerts (alert_rules with no channels), so the figures are the timer's and PostgreSQL's, not an SMTP server's.
/// </summary>
internal static class EscalationBench
{
    internal static readonly Option<int> Alerts = BenchOptions.Int("--alerts", 1_000, "unacknowledged alerts");
    internal static readonly Option<int> Rounds = BenchOptions.Int("--rounds", 5, "checks timed with nothing due");

    internal static async Task<int> RunAsync(int alerts, int idleRounds)
    {
        await using var database = await BenchDatabase.CreateMigratedAsync();
        await using var db = NpgsqlDataSource.Create(database.ConnectionString);
        var start = DateTimeOffset.UtcNow;
        await SeedAsync(db, alerts, start);

        var clock = new ManualClock(start);
        var settings = new NotificationSettings
        {
            ReminderIntervals = new(StringComparer.OrdinalIgnoreCase) { ["high"] = TimeSpan.FromMinutes(30) },
            EscalationCheckInterval = TimeSpan.FromHours(1),
            DigestBelow = "",
        };
        using var system = ActorSystem.Create("bench", ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING"));
        var manager = system.ActorOf(NotificationManager.Props(settings, db, [new EmailChannel(settings.Smtp)], time: clock));
        Console.WriteLine($"escalation bench: database {database.Name}, {alerts:N0} unacknowledged high alerts, reminders every 30 min");

        await CheckAsync(manager);
        var idle = new List<double>();
        for (var i = 0; i < idleRounds; i++)
            idle.Add((await CheckAsync(manager)).Elapsed.TotalMilliseconds);
        idle.Sort();
        Console.WriteLine($"  nothing due: {Percentiles.Of(idle, 50),8:N1} ms per check (median of {idleRounds})");

        // A check takes at most 500 steps (the longest without a message first), so a backlog drains over a few checks.
        clock.Advance(TimeSpan.FromMinutes(31));
        var (due, steps, checks) = (TimeSpan.Zero, 0, 0);
        while (steps < alerts && checks < 2 * alerts / 500 + 2)
        {
            var (elapsed, recorded) = await CheckAsync(manager);
            (due, steps, checks) = (due + elapsed, steps + recorded, checks + 1);
        }
        Console.WriteLine($"  all due:     {due.TotalMilliseconds,8:N1} ms in {checks} checks, {steps:N0} reminders, {due.TotalMilliseconds * 1000 / Math.Max(1, steps),8:N0} µs per reminder");
        var logged = await database.ScalarAsync("SELECT count(*) FROM alert_escalations WHERE reminders = 1");
        Console.WriteLine($"  reminders recorded: {logged:N0} of {alerts:N0}");
        return logged == alerts ? 0 : 1;
    }

    private static async Task<(TimeSpan Elapsed, int Steps)> CheckAsync(IActorRef manager)
    {
        var clock = Stopwatch.StartNew();
        var checkedOnce = await manager.Ask<EscalationsChecked>(CheckEscalations.Instance, TimeSpan.FromMinutes(5));
        return (clock.Elapsed, checkedOnce.Steps);
    }

    private static async Task SeedAsync(NpgsqlDataSource db, int alerts, DateTimeOffset at)
    {
        await using var connection = await db.OpenConnectionAsync();
        var user = Guid.NewGuid();
        await Db.ExecuteAsync(connection, null,
            "INSERT INTO users (id, email, password_hash, role, operator_regions) VALUES ($1, 'op@bench.test', 'x', 'OPERATOR', '{Nashik}')", user);
        await Db.ExecuteAsync(connection, null, """
            INSERT INTO notification_preferences (user_id, channels, min_severity, alert_rules)
            VALUES ($1, '{email}', 'low', '[{"types":[],"severities":[],"channels":[]}]')
            """, user);
        await Db.ExecuteAsync(connection, null, """
            INSERT INTO alerts (alert_id, type, severity, region, meter_id, message, status, first_seen_at, last_seen_at)
            SELECT gen_random_uuid(), 'ANOMALY', 'high', 'Nashik', 'MTR-' || lpad(n::text, 8, '0'), 'bench', 'active', $2, $2
            FROM generate_series(1, $1) n
            """, alerts, at);
        await Db.ExecuteAsync(connection, null, """
            INSERT INTO alert_escalations (alert_id, region, alert_type, severity, tier_since, last_notified_at)
            SELECT alert_id, region, type, severity, $1, $1 FROM alerts
            """, at);
    }

    /// <summary>The bench's clock: moved by hand, so a reminder falls due without waiting half an hour.</summary>
    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset _now = now;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
