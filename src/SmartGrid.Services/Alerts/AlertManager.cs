using System.Globalization;
using Akka.Actor;
using Akka.Event;
using Confluent.Kafka;
using Npgsql;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Domain;
using SmartGrid.Domain.Alerts;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Services.Common;
using SmartGrid.Storage.Alerts;
using StackExchange.Redis;

namespace SmartGrid.Services.Alerts;

/// <summary>
/// Owns the grid's alerts (cluster singleton, role services): OVERLOAD (type THRESHOLD) alerts from
/// regions' 1-minute loads by the <see cref="OverloadRule"/> with hysteresis (<see cref="RegionAlertState"/>),
/// ANOMALY alerts from the anomalies topic, OUTAGE and INCIDENT alerts from the outage check
/// (AlertManager.Outages), and the operator lifecycle active → acknowledged → resolved
/// (<see cref="AcknowledgeAlert"/>, <see cref="ResolveAlert"/>). At most one open alert per (type, region,
/// meter), enforced by a partial unique index: repeats raise its count and last-seen time.
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

    private readonly AlertSettings _settings;
    private readonly RegionAlertPolicy _policy;
    private readonly MeterAlertPolicy _meterPolicy;
    private readonly AlertStore _store;
    private readonly IDatabase _redis;
    private readonly RedisKeyspace _keys;
    private readonly OutboxPublisher _outbox;
    private readonly TimeProvider _time;
    private readonly List<(AlertView Alert, string Action, string Actor)> _uncommittedEvents = [];

    public AlertManager(AlertSettings settings, NpgsqlDataSource db, IConnectionMultiplexer redis, RedisKeyspace keys,
        IProducer<string, string> producer, TimeProvider time)
        : base(settings.Consumer, settings.MaintenanceInterval,
            [
                TopicReader.Of<RegionalAggregateMessage>(settings.RegionalTopic, MessageValidation.Validated),
                TopicReader.Of<Anomaly>(settings.AnomaliesTopic, MessageValidation.Validated),
                .. settings.GridNodeTopic is { } nodes ? [TopicReader.Of<GridNodeAggregateMessage>(nodes, MessageValidation.Validated)] : Array.Empty<TopicReader>(),
            ])
    {
        _settings = settings;
        _policy = new RegionAlertPolicy(new OverloadRule(settings.Overload), settings.CriticalLoadPercent, settings.OverloadClearPercent,
            settings.OverloadClearWindows);
        _meterPolicy = new MeterAlertPolicy(settings.AnomalyClearWindows, settings.OutageCadenceWindows, settings.StormShare, settings.StormSpan);
        _store = new AlertStore(db);
        _keys = keys;
        _redis = redis.GetDatabase(keys.Database);
        _outbox = new OutboxPublisher(db, producer);
        _time = time;

        ReceiveAsync<AcknowledgeAlert>(c => ReplyAsync(Sender, () => TransitionAsync(c.AlertId, c.By, c.Note, AlertStatus.Acknowledged)));
        ReceiveAsync<ResolveAlert>(c => ReplyAsync(Sender, () => TransitionAsync(c.AlertId, c.By, c.Note, AlertStatus.Resolved)));
        ReceiveAsync<CheckPowerQuality>(_ => ReplyAsync(Sender.IsNobody() || Sender.Equals(Self) ? ActorRefs.Nobody : Sender,
            async () => await CheckPowerQualityAsync()));
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

    protected override async Task<RecordHandled> HandleRecordAsync(ConsumedRecord record, object message) => message switch
    {
        RegionalAggregateMessage { WindowSize: "1m" } load => await ApplyLoadAsync(load),
        GridNodeAggregateMessage { WindowSize: "1m" } node => await ApplyNodeLoadAsync(node),
        Anomaly anomaly => await ApplyAnomalyAsync(anomaly),
        _ => RecordHandled.Ignored,
    };

    protected override void PreStart()
    {
        base.PreStart();
        Timers.StartPeriodicTimer("outages", CheckOutages.Instance, _settings.OutageCheckInterval);
        Timers.StartPeriodicTimer("power-quality", CheckPowerQuality.Instance, _settings.PowerQualityCheckInterval);
    }

    protected override async Task MaintainAsync()
    {
        await PublishPendingAsync();
        await _store.PruneSourceEventsAsync(_time.GetUtcNow() - _settings.SourceEventRetention);
    }

    private Task<RecordHandled> ApplyLoadAsync(RegionalAggregateMessage message) =>
        ApplyOverloadAsync(message.Region, null,
            new RegionLoadObserved(message.Region, message.WindowStart, message.WindowEnd, message.LoadPercentage, message.Revision),
            raised => OverloadAlert(raised, message));

    /// <summary>
    /// A transformer's or feeder's 1-minute load: the region's rule and hysteresis, its own state (kept under the node's id,
    /// which is never a region's name) and its own alert, in the node's region so its operators see it.
    /// </summary>
    private Task<RecordHandled> ApplyNodeLoadAsync(GridNodeAggregateMessage message) =>
        ApplyOverloadAsync(message.Region, message.NodeId,
            new RegionLoadObserved(message.NodeId, message.WindowStart, message.WindowEnd, message.LoadPercent, message.Revision),
            raised => NodeOverloadAlert(raised, message));

    private async Task<RecordHandled> ApplyOverloadAsync(string region, string? node, RegionLoadObserved load, Func<OverloadRaised, AlertOccurrence> alert)
    {
        var key = node ?? region;
        await using var tx = await BeginAsync();
        var state = await tx.LockRegionAsync(key);
        var events = state.Decide(load, _policy);
        if (events.Count == 0)
            return RecordHandled.Duplicate;

        var outcome = "recorded";
        foreach (var e in events)
        {
            switch (e)
            {
                case OverloadRaised raised:
                    outcome = await OpenAsync(tx, alert(raised)) ? "alert-created" : "alert-updated";
                    break;
                case OverloadCleared when await tx.ResolveOverloadAsync(region, _time.GetUtcNow(), node) is { } resolved:
                    await AuditAsync(tx, resolved, "resolved", "system");
                    outcome = "alert-resolved";
                    break;
            }

            state = state.Apply(e, _policy);
        }

        await tx.SaveRegionAsync(key, state);
        await CommitAsync(tx);

        await MirrorOverloadAsync(key, state.OverloadWindowStarts);
        await AfterCommitAsync(region);
        return new RecordHandled(outcome);
    }

    private AlertOccurrence NodeOverloadAlert(OverloadRaised raised, GridNodeAggregateMessage message) =>
        ThresholdAlert(raised, message.Region, message.NodeId,
            $"{(message.Kind == "feeder" ? "Feeder" : "Transformer")} {message.NodeId} in {message.Region} overloaded: {raised.LoadPercent:F1}% of its rating",
            ("node_id", message.NodeId), ("kind", message.Kind), ("rated_kw", message.RatedKw), ("total_power_kw", message.TotalPowerKw),
            ("meter_count", message.MeterCount), ("expected_meters", message.ExpectedMeters));

    private AlertOccurrence OverloadAlert(OverloadRaised raised, RegionalAggregateMessage message) =>
        ThresholdAlert(raised, raised.Region, null, $"Region {raised.Region} overloaded: {raised.LoadPercent:F1}% of capacity",
            ("capacity_kw", message.CapacityKw), ("total_power_kw", message.TotalPowerKw));

    /// <summary>
    /// A THRESHOLD alert: the overload rule's evidence (load, threshold, windows within the span), which a region's and a
    /// node's alert share, then what is particular to the loaded thing.
    /// </summary>
    private AlertOccurrence ThresholdAlert(OverloadRaised raised, string region, string? nodeId, string summary,
        params (string Key, object? Value)[] particular)
    {
        var overload = _settings.Overload;
        var metadata = new Dictionary<string, object?>
        {
            ["load_percent"] = raised.LoadPercent,
            ["threshold_percent"] = overload.ThresholdPercent,
            ["overload_windows"] = raised.OverloadWindows,
            ["span_minutes"] = overload.Span.TotalMinutes,
            ["window_start"] = raised.WindowStart,
        };
        foreach (var (key, value) in particular)
            metadata[key] = value;
        var text = $"{summary} ({raised.OverloadWindows} windows over {overload.ThresholdPercent}% within {overload.Span.TotalMinutes:F0} min)";
        return new AlertOccurrence(AlertType.Threshold, raised.Severity, region, null, text, metadata, raised.WindowEnd, NodeId: nodeId);
    }

    private async Task<RecordHandled> ApplyAnomalyAsync(Anomaly anomaly)
    {
        var timestamp = anomaly.Timestamp.ToUniversalTime();
        await using var tx = await BeginAsync();
        if (!await tx.RememberSourceAsync($"anomaly:{anomaly.MeterId}:{timestamp:O}:{anomaly.Kind}"))
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
        // A drop during a storm is part of the region's incident, which was notified once for all of them.
        var incident = anomaly.Kind == AnomalyKind.Drop ? await tx.OpenIncidentAsync(anomaly.Region) : null;
        var created = await OpenAsync(tx,
            new AlertOccurrence(AlertType.Anomaly, anomaly.Severity, anomaly.Region, anomaly.MeterId, text, metadata, timestamp, incident));
        await CommitAsync(tx);
        await AfterCommitAsync(anomaly.Region);
        return new RecordHandled(created ? "alert-created" : "alert-updated");
    }

    /// <summary>Opens the alert of (type, region, meter) or counts a repeat on the open one; true when opened.</summary>
    private async Task<bool> OpenAsync(AlertTransaction tx, AlertOccurrence occurrence)
    {
        var (alert, inserted) = await tx.UpsertOpenAsync(occurrence);
        if (inserted)
            await AuditAsync(tx, alert, "created", "system");
        return inserted;
    }

    private async Task<object> TransitionAsync(Guid alertId, string by, string? note, AlertStatus target)
    {
        if (string.IsNullOrWhiteSpace(by))
            return new AlertCommandRejected(alertId, AlertCommandError.InvalidTransition, "the operator (by) is required");

        await using var tx = await BeginAsync();
        // A region's overload state is locked before its alert, in the order ApplyLoadAsync takes them.
        // A transformer's or feeder's overload keeps its state under the node's id.
        var overload = await tx.FindAsync(alertId) is { Type: AlertType.Threshold, MeterId: null } threshold
            ? (Region: threshold.NodeId ?? threshold.Region, State: await tx.LockRegionAsync(threshold.NodeId ?? threshold.Region))
            : ((string Region, RegionAlertState State)?)null;
        var current = await tx.LockAsync(alertId);
        if (current is null)
            return new AlertCommandRejected(alertId, AlertCommandError.NotFound, $"alert {alertId} does not exist");

        if (!current.Status.CanMoveTo(target))
        {
            var verb = target == AlertStatus.Acknowledged ? "acknowledge" : "resolve";
            return new AlertCommandRejected(alertId, AlertCommandError.InvalidTransition,
                $"cannot {verb} alert {alertId}: it is {current.Status.ToWireName()}");
        }

        var now = _time.GetUtcNow();
        RegionAlertState? forgotten = null;
        if (target == AlertStatus.Resolved && overload is { } region)
        {
            if (region.State.OverloadContinues())
                return await HoldResolveAsync(tx, current, by, note, now);
            forgotten = region.State.ResolvedByOperator();
            await tx.SaveRegionAsync(region.Region, forgotten);
        }

        var updated = target == AlertStatus.Acknowledged
            ? await tx.AcknowledgeAsync(alertId, by, now)
            : await tx.ResolveAsync(alertId, by, now);
        await AuditAsync(tx, updated!, target.ToWireName(), by, note);
        await CommitAsync(tx);
        if (forgotten is not null)
            await MirrorOverloadAsync(updated!.NodeId ?? updated.Region, forgotten.OverloadWindowStarts);
        await AfterCommitAsync(updated!.Region);
        return new AlertCommandSucceeded(updated);
    }

    /// <summary>
    /// A resolve of an overload that has not cleared: resolving it would only re-raise it as a new alert at the next
    /// overload window. The alert stays open, acknowledged by the operator, with a 'noted' event that says why.
    /// </summary>
    private async Task<object> HoldResolveAsync(AlertTransaction tx, AlertView current, string by, string? note, DateTimeOffset now)
    {
        var alert = current;
        if (alert.Status == AlertStatus.Active)
        {
            alert = (await tx.AcknowledgeAsync(alert.AlertId, by, now))!;
            await AuditAsync(tx, alert, AlertStatus.Acknowledged.ToWireName(), by, note);
        }

        var why = $"Resolve held: {(alert.NodeId is { } node ? $"node {node}" : $"region {alert.Region}")} is still overloaded. The alert stays open; resolve it once the load is back " +
                  $"under {_settings.OverloadClearPercent}%, or it resolves itself after {_settings.OverloadClearWindows} windows there.";
        await AuditAsync(tx, alert, "noted", by, note is null ? why : $"{why} Operator's note: {note}");
        await CommitAsync(tx);
        await AfterCommitAsync(alert.Region);
        return new AlertCommandSucceeded(alert);
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
    private Task<AlertTransaction> BeginAsync()
    {
        _uncommittedEvents.Clear();
        return _store.BeginAsync();
    }

    /// <summary>Commits, then counts the lifecycle events of the transaction (never those of one rolled back).</summary>
    private async Task CommitAsync(AlertTransaction tx)
    {
        await tx.CommitAsync();
        foreach (var (alert, action, actor) in _uncommittedEvents)
            ServicesMetrics.AlertEvent(alert.Type.ToWireName(), alert.Severity, action, actor);
        _uncommittedEvents.Clear();
    }

    private Task AuditAsync(AlertTransaction tx, AlertView alert, string action, string actor, string? note = null)
    {
        _uncommittedEvents.Add((alert, action, actor));
        return tx.AuditAsync(alert, action, actor, _time.GetUtcNow(), note);
    }

    private async Task MirrorOverloadAsync(string region, List<DateTimeOffset> windows)
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
        await _redis.StringSetAsync(_keys.AlertCount(region), await _store.OpenCountAsync(region), _settings.AlertCountTtl);
    }

    /// <summary>How a periodic check ends: each region it touched gets its after-commit work, and a change is logged.</summary>
    private async Task AfterCheckAsync(string check, IEnumerable<string> touched, int raised, int resolved)
    {
        foreach (var region in touched)
            await AfterCommitAsync(region);
        if (raised + resolved > 0)
            Log.Info("alert-manager: {0} check raised {1} and resolved {2} alert(s)", check, raised, resolved);
    }

    /// <summary>Sends unpublished lifecycle events to the alerts topic in event order and marks them once acknowledged.</summary>
    private Task PublishPendingAsync() => _outbox.PublishPendingAsync(_settings.AlertsTopic, AlertStore.EventsOutbox);
}
