using System.Globalization;
using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using Confluent.Kafka;
using Npgsql;
using SmartGrid.Domain;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Services.Common;
using SmartGrid.Services.Tariffs;
using StackExchange.Redis;

namespace SmartGrid.Services.Alerts;

/// <summary>
/// Owns the grid's alerts (cluster singleton, role services): OVERLOAD (type THRESHOLD) alerts from
/// regions' 1-minute loads by the <see cref="OverloadRule"/>, ANOMALY alerts from the anomalies
/// topic, and the operator lifecycle active → acknowledged → resolved (<see cref="AcknowledgeAlert"/>,
/// <see cref="ResolveAlert"/>). At most one open alert per (type, region, meter), enforced by a
/// partial unique index: repeats raise its count and last-seen time.
/// <para>
/// Every lifecycle event is an alert_acknowledgments row written in the same transaction as the
/// alert, and that table is the outbox of the alerts topic. The overload windows and the revisions
/// already applied are kept in alert_region_state (mirrored to Redis region:overload:{region}), so
/// a redelivered window or anomaly changes nothing and a handover loses nothing.
/// </para>
/// </summary>
public sealed partial class AlertManager : ManagerActor
{
    public const string Name = "alert-manager";

    /// <summary>Outbox rows sent per round.</summary>
    private const int PublishBatch = 500;

    private const string AlertColumns = """
        alert_id, type, severity, region, meter_id, message, metadata::text AS metadata, status, occurrence_count,
        first_seen_at, last_seen_at, created_at, acknowledged_by, acknowledged_at, resolved_by, resolved_at
        """;

    private readonly AlertSettings _settings;
    private readonly OverloadRule _rule;
    private readonly NpgsqlDataSource _db;
    private readonly IDatabase _redis;
    private readonly RedisKeyspace _keys;
    private readonly IProducer<string, string> _producer;
    private readonly TimeProvider _time;
    private readonly List<(AlertView Alert, string Action, string Actor)> _uncommittedEvents = [];

    public AlertManager(AlertSettings settings, NpgsqlDataSource db, IConnectionMultiplexer redis, RedisKeyspace keys,
        IProducer<string, string> producer, TimeProvider time)
        : base(settings.Consumer, settings.MaintenanceInterval)
    {
        _settings = settings;
        _rule = new OverloadRule(settings.Overload);
        _db = db;
        _keys = keys;
        _redis = redis.GetDatabase(keys.Database);
        _producer = producer;
        _time = time;

        ReceiveAsync<AcknowledgeAlert>(c => ReplyAsync(Sender, () => TransitionAsync(c.AlertId, c.By, AlertStatuses.Acknowledged)));
        ReceiveAsync<ResolveAlert>(c => ReplyAsync(Sender, () => TransitionAsync(c.AlertId, c.By, AlertStatuses.Resolved)));
        ReceiveAsync<CheckOutages>(async _ =>
        {
            // The timer's checks answer nobody; a failed one is retried at the next interval.
            var sender = Sender.IsNobody() || Sender.Equals(Self) ? null : Sender;
            try
            {
                var checkedOutages = await CheckOutagesAsync();
                sender?.Tell(checkedOutages);
            }
            catch (Exception e)
            {
                Log.Warning(e, "alert-manager: outage check failed");
                sender?.Tell(new Status.Failure(e));
            }
        });
    }

    public static Props Props(AlertSettings settings, NpgsqlDataSource db, IConnectionMultiplexer redis, RedisKeyspace keys,
        IProducer<string, string> producer, TimeProvider? time = null) =>
        Akka.Actor.Props.Create(() => new AlertManager(settings, db, redis, keys, producer, time ?? TimeProvider.System));

    protected override object Parse(string topic, string json) =>
        topic == _settings.RegionalTopic ? WireJson.Deserialize<RegionalAggregateMessage>(json).Validated()
        : topic == _settings.AnomaliesTopic ? WireJson.Deserialize<Anomaly>(json).Validated()
        : json;

    protected override async Task<RecordHandled> HandleRecordAsync(ConsumedRecord record, object message) => message switch
    {
        RegionalAggregateMessage { WindowSize: "1m" } load => await ApplyLoadAsync(load),
        Anomaly anomaly => await ApplyAnomalyAsync(anomaly),
        _ => RecordHandled.Ignored,
    };

    protected override void PreStart()
    {
        base.PreStart();
        Timers.StartPeriodicTimer("outages", CheckOutages.Instance, _settings.OutageCheckInterval);
    }

    protected override async Task MaintainAsync()
    {
        await PublishPendingAsync();
        await using var connection = await _db.OpenConnectionAsync();
        await Db.ExecuteAsync(connection, null, "DELETE FROM alert_source_events WHERE processed_at < $1",
            _time.GetUtcNow() - _settings.SourceEventRetention);
    }

    private async Task<RecordHandled> ApplyLoadAsync(RegionalAggregateMessage message)
    {
        var start = message.WindowStart.ToUniversalTime();
        var end = message.WindowEnd > message.WindowStart ? message.WindowEnd.ToUniversalTime() : start.AddMinutes(1);
        var key = start.ToString("O", CultureInfo.InvariantCulture);
        await using var connection = await _db.OpenConnectionAsync();
        await using var tx = await BeginAsync(connection);
        await Db.ExecuteAsync(connection, tx, "INSERT INTO alert_region_state (region, state) VALUES ($1, '{}'::jsonb) ON CONFLICT DO NOTHING",
            message.Region);
        AlertRegionState state;
        await using (var command = Db.Command(connection, tx, "SELECT state::text FROM alert_region_state WHERE region = $1 FOR UPDATE", message.Region))
            state = WireJson.Deserialize<AlertRegionState>((string)(await command.ExecuteScalarAsync())!);

        if (state.Revisions.TryGetValue(key, out var applied) && message.Revision <= applied)
            return RecordHandled.Duplicate;

        var wasCounted = state.OverloadWindowStarts.Contains(start);
        var evaluation = _rule.Evaluate(
            new OverloadState { OverloadWindowStarts = state.OverloadWindowStarts, NewestWindowStart = state.NewestWindowStart },
            start, message.LoadPercentage);
        var newest = evaluation.State.NewestWindowStart!.Value;
        var revisions = state.Revisions
            .Where(r => DateTimeOffset.Parse(r.Key, CultureInfo.InvariantCulture) > newest - _settings.Overload.Span)
            .ToDictionary(r => r.Key, r => r.Value);
        revisions[key] = message.Revision;

        var outcome = "recorded";
        var belowSince = state.BelowSince;
        if (_rule.IsOverloadWindow(message.LoadPercentage))
        {
            belowSince = null;
            if (evaluation.IsOverloaded && !wasCounted)
            {
                var severity = message.LoadPercentage >= _settings.CriticalLoadPercent ? Severity.Critical : Severity.High;
                var metadata = new Dictionary<string, object?>
                {
                    ["load_percent"] = message.LoadPercentage,
                    ["threshold_percent"] = _settings.Overload.ThresholdPercent,
                    ["overload_windows"] = evaluation.OverloadWindowCount,
                    ["span_minutes"] = _settings.Overload.Span.TotalMinutes,
                    ["window_start"] = start,
                    ["capacity_kw"] = message.CapacityKw,
                    ["total_power_kw"] = message.TotalPowerKw,
                };
                var text = $"Region {message.Region} overloaded: {message.LoadPercentage:F1}% of capacity " +
                           $"({evaluation.OverloadWindowCount} windows over {_settings.Overload.ThresholdPercent}% within {_settings.Overload.Span.TotalMinutes:F0} min)";
                outcome = await UpsertAlertAsync(connection, tx, AlertTypes.Threshold, severity, message.Region, null, text, metadata, end)
                    ? "alert-created" : "alert-updated";
            }
        }
        else
        {
            if (belowSince is null || start < belowSince) belowSince = start;
            if (end - belowSince.Value >= _settings.AutoResolveAfter
                && await AutoResolveAsync(connection, tx, message.Region))
                outcome = "alert-resolved";
        }

        var next = new AlertRegionState
        {
            OverloadWindowStarts = evaluation.State.OverloadWindowStarts.ToList(),
            NewestWindowStart = newest,
            Revisions = revisions,
            BelowSince = belowSince,
        };
        await Db.ExecuteAsync(connection, tx, "UPDATE alert_region_state SET state = $2::jsonb, updated_at = now() WHERE region = $1",
            message.Region, WireJson.Serialize(next));
        await CommitAsync(tx);

        await MirrorOverloadAsync(message.Region, next.OverloadWindowStarts);
        await AfterCommitAsync(message.Region);
        return new RecordHandled(outcome);
    }

    private async Task<RecordHandled> ApplyAnomalyAsync(Anomaly anomaly)
    {
        var timestamp = anomaly.Timestamp.ToUniversalTime();
        var sourceKey = $"anomaly:{anomaly.MeterId}:{timestamp:O}:{anomaly.Kind}";
        await using var connection = await _db.OpenConnectionAsync();
        await using var tx = await BeginAsync(connection);
        if (await Db.ExecuteAsync(connection, tx, "INSERT INTO alert_source_events (source_key) VALUES ($1) ON CONFLICT DO NOTHING", sourceKey) == 0)
            return RecordHandled.Duplicate;

        var direction = anomaly.Kind == AnomalyKind.Spike ? "spike" : "drop";
        var text = $"Consumption {direction} on meter {anomaly.MeterId}: {anomaly.ActualKw:F2} kW against a baseline of " +
                   $"{anomaly.BaselineKw:F2} kW ({anomaly.DeviationPercent:+0.#;-0.#}%)";
        var metadata = new Dictionary<string, object?>
        {
            ["kind"] = direction,
            ["baseline_kw"] = anomaly.BaselineKw,
            ["actual_kw"] = anomaly.ActualKw,
            ["deviation_percent"] = anomaly.DeviationPercent,
            ["timestamp"] = timestamp,
        };
        var created = await UpsertAlertAsync(connection, tx, AlertTypes.Anomaly, anomaly.Severity, anomaly.Region, anomaly.MeterId, text,
            metadata, timestamp);
        await CommitAsync(tx);
        await AfterCommitAsync(anomaly.Region);
        return new RecordHandled(created ? "alert-created" : "alert-updated");
    }

    /// <summary>Creates the open alert of (type, region, meter) or counts a repeat on it; true when created.</summary>
    private async Task<bool> UpsertAlertAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string type, Severity severity,
        string region, string? meterId, string message, Dictionary<string, object?> metadata, DateTimeOffset seenAt)
    {
        AlertView alert;
        bool inserted;
        await using (var command = Db.Command(connection, tx, $"""
                         INSERT INTO alerts (alert_id, type, severity, region, meter_id, message, metadata, status, first_seen_at, last_seen_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, 'active', $8, $8)
                         ON CONFLICT (type, region, (COALESCE(meter_id, ''))) WHERE status <> 'resolved' DO UPDATE SET
                             occurrence_count = alerts.occurrence_count + 1,
                             last_seen_at = GREATEST(alerts.last_seen_at, EXCLUDED.last_seen_at),
                             severity = CASE WHEN array_position(ARRAY['low','medium','high','critical'], EXCLUDED.severity)
                                               > array_position(ARRAY['low','medium','high','critical'], alerts.severity)
                                             THEN EXCLUDED.severity ELSE alerts.severity END,
                             message = EXCLUDED.message,
                             metadata = EXCLUDED.metadata,
                             updated_at = now()
                         RETURNING {AlertColumns}, (xmax = 0) AS inserted
                         """, Guid.NewGuid(), type, severity.ToWireName(), region, meterId, message,
                         JsonSerializer.Serialize(metadata, WireJson.Options), seenAt))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            alert = ReadAlert(reader);
            inserted = reader.GetBoolean(reader.GetOrdinal("inserted"));
        }

        if (inserted)
            await AuditAsync(connection, tx, alert, "created", "system");
        return inserted;
    }

    private async Task<bool> AutoResolveAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string region)
    {
        AlertView? resolved = null;
        await using (var command = Db.Command(connection, tx, $"""
                         UPDATE alerts SET status = 'resolved', resolved_at = $2, resolved_by = 'system', updated_at = now()
                         WHERE type = 'THRESHOLD' AND region = $1 AND meter_id IS NULL AND status <> 'resolved'
                         RETURNING {AlertColumns}
                         """, region, _time.GetUtcNow()))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            if (await reader.ReadAsync()) resolved = ReadAlert(reader);
        }

        if (resolved is null) return false;
        await AuditAsync(connection, tx, resolved, "resolved", "system");
        return true;
    }

    private async Task<object> TransitionAsync(Guid alertId, string by, string target)
    {
        if (string.IsNullOrWhiteSpace(by))
            return new AlertCommandRejected(alertId, AlertCommandError.InvalidTransition, "the operator (by) is required");

        await using var connection = await _db.OpenConnectionAsync();
        await using var tx = await BeginAsync(connection);
        AlertView? current = null;
        await using (var command = Db.Command(connection, tx, $"SELECT {AlertColumns} FROM alerts WHERE alert_id = $1 FOR UPDATE", alertId))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            if (await reader.ReadAsync()) current = ReadAlert(reader);
        }

        if (current is null)
            return new AlertCommandRejected(alertId, AlertCommandError.NotFound, $"alert {alertId} does not exist");

        var allowed = target == AlertStatuses.Acknowledged
            ? current.Status == AlertStatuses.Active
            : current.Status != AlertStatuses.Resolved;
        if (!allowed)
        {
            var verb = target == AlertStatuses.Acknowledged ? "acknowledge" : "resolve";
            return new AlertCommandRejected(alertId, AlertCommandError.InvalidTransition,
                $"cannot {verb} alert {alertId}: it is {current.Status}");
        }

        var now = _time.GetUtcNow();
        var sql = target == AlertStatuses.Acknowledged
            ? $"UPDATE alerts SET status = 'acknowledged', acknowledged_at = $2, acknowledged_by = $3, updated_at = now() WHERE alert_id = $1 RETURNING {AlertColumns}"
            : $"UPDATE alerts SET status = 'resolved', resolved_at = $2, resolved_by = $3, updated_at = now() WHERE alert_id = $1 RETURNING {AlertColumns}";
        AlertView updated;
        await using (var command = Db.Command(connection, tx, sql, alertId, now, by))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            updated = ReadAlert(reader);
        }

        await AuditAsync(connection, tx, updated, target, by);
        await CommitAsync(tx);
        await AfterCommitAsync(updated.Region);
        return new AlertCommandSucceeded(updated);
    }

    private async Task ReplyAsync(IActorRef sender, Func<Task<object>> action)
    {
        try
        {
            sender.Tell(await action());
        }
        catch (Exception e)
        {
            Log.Warning(e, "alert-manager: command failed");
            sender.Tell(new Status.Failure(e));
        }
    }

    /// <summary>A transaction; lifecycle events of an earlier one that rolled back are forgotten.</summary>
    private async Task<NpgsqlTransaction> BeginAsync(NpgsqlConnection connection)
    {
        _uncommittedEvents.Clear();
        return await connection.BeginTransactionAsync();
    }

    /// <summary>Commits, then counts the lifecycle events of the transaction (never those of one rolled back).</summary>
    private async Task CommitAsync(NpgsqlTransaction tx)
    {
        await tx.CommitAsync();
        foreach (var (alert, action, actor) in _uncommittedEvents)
            ServicesMetrics.AlertEvent(alert.Type, alert.Severity, action, actor);
        _uncommittedEvents.Clear();
    }

    private async Task AuditAsync(NpgsqlConnection connection, NpgsqlTransaction tx, AlertView alert, string action, string actor)
    {
        _uncommittedEvents.Add((alert, action, actor));
        await Db.ExecuteAsync(connection, tx, "INSERT INTO alert_acknowledgments (alert_id, action, actor, at, alert) VALUES ($1, $2, $3, $4, $5::jsonb)",
            alert.AlertId, action, actor, _time.GetUtcNow(), WireJson.Serialize(alert));
    }

    private static AlertView ReadAlert(NpgsqlDataReader reader)
    {
        using var metadata = JsonDocument.Parse(reader.GetString(reader.GetOrdinal("metadata")));
        return new AlertView
        {
            AlertId = reader.GetGuid(reader.GetOrdinal("alert_id")),
            Type = reader.GetString(reader.GetOrdinal("type")),
            Severity = reader.GetString(reader.GetOrdinal("severity")),
            Region = reader.GetString(reader.GetOrdinal("region")),
            MeterId = reader.Get<string>("meter_id"),
            Message = reader.GetString(reader.GetOrdinal("message")),
            Metadata = metadata.RootElement.Clone(),
            Status = reader.GetString(reader.GetOrdinal("status")),
            OccurrenceCount = reader.GetInt32(reader.GetOrdinal("occurrence_count")),
            FirstSeenAt = reader.GetFieldValue<DateTimeOffset>(reader.GetOrdinal("first_seen_at")),
            LastSeenAt = reader.GetFieldValue<DateTimeOffset>(reader.GetOrdinal("last_seen_at")),
            CreatedAt = reader.GetFieldValue<DateTimeOffset>(reader.GetOrdinal("created_at")),
            AcknowledgedBy = reader.Get<string>("acknowledged_by"),
            AcknowledgedAt = reader.Get<DateTimeOffset?>("acknowledged_at"),
            ResolvedBy = reader.Get<string>("resolved_by"),
            ResolvedAt = reader.Get<DateTimeOffset?>("resolved_at"),
        };
    }

    private async Task MirrorOverloadAsync(string region, IReadOnlyList<DateTimeOffset> windows)
    {
        var key = _keys.Overload(region);
        var batch = _redis.CreateTransaction();
        _ = batch.KeyDeleteAsync(key);
        if (windows.Count > 0)
        {
            _ = batch.SortedSetAddAsync(key,
                windows.Select(w => new SortedSetEntry(w.ToString("O", CultureInfo.InvariantCulture), w.ToUnixTimeMilliseconds())).ToArray());
            _ = batch.KeyExpireAsync(key, _settings.OverloadKeyTtl);
        }

        await batch.ExecuteAsync();
    }

    private async Task AfterCommitAsync(string region)
    {
        await PublishPendingAsync();
        await using var connection = await _db.OpenConnectionAsync();
        await using var command = Db.Command(connection, null, "SELECT count(*) FROM alerts WHERE region = $1 AND status <> 'resolved'", region);
        var open = (long)(await command.ExecuteScalarAsync())!;
        await _redis.StringSetAsync(_keys.AlertCount(region), open, _settings.AlertCountTtl);
    }

    /// <summary>Sends unpublished lifecycle events to the alerts topic in event order and marks them once acknowledged.</summary>
    private async Task PublishPendingAsync()
    {
        while (true)
        {
            var pending = new List<AlertEventMessage>();
            await using var connection = await _db.OpenConnectionAsync();
            await using (var command = Db.Command(connection, null, $"""
                             SELECT event_id, action, actor, at, alert::text FROM alert_acknowledgments
                             WHERE published_at IS NULL ORDER BY event_id LIMIT {PublishBatch}
                             """))
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    pending.Add(new AlertEventMessage(reader.GetInt64(0), reader.GetString(1), reader.GetString(2),
                        reader.GetFieldValue<DateTimeOffset>(3), WireJson.Deserialize<AlertView>(reader.GetString(4))));
                }
            }

            if (pending.Count == 0) return;
            await Task.WhenAll(pending.Select(e => _producer.ProduceAsync(_settings.AlertsTopic,
                new Message<string, string> { Key = e.Alert.AlertId.ToString(), Value = WireJson.Serialize(e) })));
            await Db.ExecuteAsync(connection, null, "UPDATE alert_acknowledgments SET published_at = now() WHERE event_id = ANY($1)",
                pending.Select(e => e.EventId).ToArray());
            // A short batch was the last one: no second query per record on the hot path.
            if (pending.Count < PublishBatch) return;
        }
    }
}
