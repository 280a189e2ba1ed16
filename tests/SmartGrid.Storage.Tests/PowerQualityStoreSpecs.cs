using SmartGrid.Domain.PowerQuality;
using SmartGrid.Domain.Reliability;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Storage.Tests;

/// <summary>voltage_10m is rebuilt from aggregates_1m in the projection's transaction; voltage events and customer interruptions are UPSERTed by (meter, start).</summary>
public sealed class PowerQualityStoreSpecs(PostgresDatabase db) : IClassFixture<PostgresDatabase>
{
    private static readonly DateTimeOffset T0 = new(2030, 3, 1, 10, 0, 0, TimeSpan.Zero);

    private AggregateStore Store => db.Storage.Aggregates;
    private AggregateQueries Queries => db.Storage.Queries;

    private static WindowAggregate Minute(string meterId, DateTimeOffset start, params double[] voltages)
    {
        var window = WindowAggregate.Empty(meterId, "Pune-West", WindowSize.OneMinute, start);
        for (var i = 0; i < voltages.Length; i++)
            window = window.Add(new TelemetryReading
            {
                MeterId = meterId, Timestamp = start.AddSeconds(10 * i), Voltage = voltages[i], Current = 5, PowerKw = 1, EnergyKwh = 0.01,
            });
        return window;
    }

    [Fact]
    public async Task Should_rebuild_each_10_minute_window_from_its_minutes_so_replays_and_revisions_do_not_double_count()
    {
        // Minutes 10:00 and 10:09 fall in the 10:00 bucket, 10:10 in the next.
        var first = Minute("MTR-PQ1", T0, 230, 232);
        var last = Minute("MTR-PQ1", T0.AddMinutes(9), 220);
        var next = Minute("MTR-PQ1", T0.AddMinutes(10), 240);

        await Store.UpsertAsync([first, last, next], new ProjectionCheckpoint("pq-projection", 1));
        await Store.UpsertAsync([first, last, next], new ProjectionCheckpoint("pq-projection", 2));
        // A late reading revises 10:09: the bucket takes the revision's sums, not both.
        await Store.UpsertAsync([Minute("MTR-PQ1", T0.AddMinutes(9), 220, 180)], new ProjectionCheckpoint("pq-projection", 3));

        var rows = await Queries.GetVoltageWindowsAsync("MTR-PQ1", null, T0, T0.AddHours(1));
        Assert.Equal(
            [new VoltageWindowRow("MTR-PQ1", "Pune-West", T0, 4, (230 + 232 + 220 + 180) / 4.0, 180, 232),
             new VoltageWindowRow("MTR-PQ1", "Pune-West", T0.AddMinutes(10), 1, 240, 240, 240)],
            rows);
    }

    [Fact]
    public async Task Should_write_nothing_when_the_batch_fails_and_keep_the_offset_unmoved()
    {
        var ok = Minute("MTR-PQ2", T0, 230);
        var broken = Minute("MTR-PQ2", T0.AddMinutes(1), 230) with { Region = null! };

        await Assert.ThrowsAnyAsync<Exception>(() => Store.UpsertAsync([ok, broken], new ProjectionCheckpoint("pq-failing", 7)));

        Assert.Empty(await Queries.GetVoltageWindowsAsync("MTR-PQ2", null, T0, T0.AddHours(1)));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM projection_offsets WHERE projection_id = 'pq-failing'"));
    }

    [Fact]
    public async Task Should_store_a_voltage_event_once_and_never_reopen_an_ended_one_on_replay()
    {
        var opened = new VoltageEvent("MTR-PQ3", "Pune-West", VoltageEventKind.Sag, T0, null, 200, 230);
        var ended = opened with { Kind = VoltageEventKind.Interruption, End = T0.AddSeconds(40), ExtremeVoltage = 0 };

        await Store.UpsertAsync([], [opened, ended], [], new ProjectionCheckpoint("pq-events", 1));
        await Store.UpsertAsync([], [opened], [], new ProjectionCheckpoint("pq-events", 2));

        Assert.Equal([ended], await Queries.GetVoltageEventsAsync("MTR-PQ3", null, T0.AddMinutes(-1), T0.AddMinutes(1)));
        Assert.Equal([ended], await Queries.GetVoltageEventsAsync(null, "Pune-West", T0.AddSeconds(39), T0.AddSeconds(41)));
        Assert.Empty(await Queries.GetVoltageEventsAsync("MTR-PQ3", null, T0.AddSeconds(40), T0.AddMinutes(1)));
    }

    [Fact]
    public async Task Should_store_a_customer_interruption_once_and_never_reopen_an_ended_one_on_replay()
    {
        var opened = new CustomerInterruption("MTR-PQ4", T0, null, InterruptionStart.LastGasp);
        var ended = opened with { End = T0.AddMinutes(7) };
        var silence = new CustomerInterruption("MTR-PQ4", T0.AddMinutes(20), T0.AddMinutes(21), InterruptionStart.Silence);

        await Store.UpsertAsync([], [], [("Pune-West", opened), ("Pune-West", ended)], new ProjectionCheckpoint("pq-interruptions", 1));
        await Store.UpsertAsync([], [], [("Pune-West", opened), ("Pune-West", silence)], new ProjectionCheckpoint("pq-interruptions", 2));

        Assert.Equal([ended, silence], await Queries.GetCustomerInterruptionsAsync("Pune-West", T0, T0.AddHours(1)));
        Assert.Equal([silence], await Queries.GetCustomerInterruptionsAsync(["MTR-PQ4"], T0.AddMinutes(1), T0.AddHours(1)));
        Assert.Empty(await Queries.GetCustomerInterruptionsAsync("Nashik", T0, T0.AddHours(1)));
    }
}
