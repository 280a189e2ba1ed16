using Akka.Actor;
using Akka.Configuration;
using SmartGrid.Actors.Metering;
using SmartGrid.Actors.Regional;
using SmartGrid.Actors.Serialization;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Metering;
using SmartGrid.Domain.Regional;
using SmartGrid.Domain.Reliability;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Integration.Tests.Serialization;

/// <summary>Every persisted or remote message survives the trip through its stable manifest.</summary>
public sealed class SmartGridSerializerSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly System.Text.Json.JsonSerializerOptions SnakeCaseJson = new() { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower };

    public SmartGridSerializerSpecs() : base(ConfigurationFactory.ParseString($$"""
        akka.actor.serializers.smartgrid = "{{typeof(SmartGridSerializer).AssemblyQualifiedName}}"
        akka.actor.serialization-bindings {
          {{string.Join("\n", SmartGridSerializer.Manifests.Keys.Select(t => $"\"{t.AssemblyQualifiedName}\" = smartgrid"))}}
        }
        """))
    {
    }

    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 18, 0, 0, TimeSpan.Zero);

    private static TelemetryReading Reading(int second, double power) => new()
    {
        MeterId = "MTR-00000042", Timestamp = T0.AddSeconds(second), Voltage = 231.5, Current = power * 1000 / 231.5,
        PowerKw = power, EnergyKwh = power * 10 / 3600, PowerFactor = 0.97, Frequency = 50.01, Region = "Nashik",
    };

    /// <summary>A meter that has seen readings, published windows and learned a little baseline.</summary>
    private static (MeterState State, IReadOnlyList<object> Events) BusyMeter()
    {
        var state = new MeterState("MTR-00000042");
        var policy = new MeterPolicy();
        var events = new List<object>();
        for (var batch = 0; batch < 20; batch++)
        {
            var decided = state.Decide(Enumerable.Range(0, 6).Select(i => Reading(batch * 60 + i * 10, 1 + i * 0.1)).ToList(), idle: false, policy);
            foreach (var e in decided)
            {
                if (e is ReadingsAccepted r) state.Apply(r, policy);
                if (e is WindowsEmitted w) state.Apply(w, policy);
            }
            events.AddRange(decided);
        }
        return (state, events);
    }

    private T RoundTrip<T>(T message) where T : notnull
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        Assert.IsType<SmartGridSerializer>(serializer);
        var manifest = ((SmartGridSerializer)serializer).Manifest(message);
        Assert.Equal(SmartGridSerializer.Manifests[typeof(T)], manifest);
        var bytes = serializer.ToBinary(message);
        return (T)((SmartGridSerializer)serializer).FromBinary(bytes, manifest);
    }

    [Fact]
    public void Should_bind_every_manifested_type_to_the_smartgrid_serializer_with_a_unique_manifest()
    {
        Assert.Equal(SmartGridSerializer.Manifests.Count, SmartGridSerializer.Manifests.Values.Distinct().Count());
        Assert.All(SmartGridSerializer.Manifests.Values, m => Assert.Matches(@"\.v[0-9]+$", m));
    }

    [Fact]
    public void Should_write_accepted_readings_compactly_and_read_them_back_exactly()
    {
        var readings = new[]
        {
            Reading(0, 2.5) with { IngestedAt = T0.AddSeconds(1.2345678) },
            // No optional fields, another region, and a timestamp that kept its offset.
            Reading(10, 2.6) with { PowerFactor = null, Frequency = null, Region = "Pune-West", Timestamp = T0.AddSeconds(10).ToOffset(TimeSpan.FromHours(5.5)) },
            Reading(20, double.Epsilon) with { Region = null, Voltage = 229.99999999999997 },
        };
        var accepted = new ReadingsAccepted("MTR-00000042", "Nashik", readings, 3, 1);
        var serializer = (SmartGridSerializer)Sys.Serialization.FindSerializerFor(accepted);
        var bytes = serializer.ToBinary(accepted);
        var back = RoundTrip(accepted);

        Assert.Equal(readings, back.Readings);
        Assert.Equal(readings[1].Timestamp.Offset, back.Readings[1].Timestamp.Offset);
        Assert.Equal((3, 1, "Nashik"), (back.Duplicates, back.TooLate, back.Region));
        Assert.True(bytes.Length < 100 * readings.Length, $"{bytes.Length} bytes for {readings.Length} readings");
    }

    [Fact]
    public void Should_still_read_accepted_readings_journalled_as_json_before_the_binary_format()
    {
        // Exactly what the v1 serializer wrote: journals from before the binary format must recover.
        const string v1 = """
            {"meter_id":"MTR-00000042","region":"Nashik","readings":[{"meter_id":"MTR-00000042","timestamp":"2026-03-01T18:00:00+00:00",
            "voltage":231.5,"current":10.8,"power_kw":2.5,"energy_kwh":0.0069,"power_factor":0.97,"frequency":50.01,"region":"Nashik","ingested_at":null}],
            "duplicates":0,"too_late":2}
            """;
        var serializer = (SmartGridSerializer)Sys.Serialization.FindSerializerFor(new GetMeterStatus("MTR-00000042"));
        var back = (ReadingsAccepted)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(v1), "meter.readings-accepted.v1");
        Assert.Equal(2, back.TooLate);
        Assert.Equal(T0, Assert.Single(back.Readings).Timestamp);
        Assert.Equal(2.5, back.Readings[0].PowerKw);
    }

    [Fact]
    public void Should_round_trip_meter_events_with_every_reading_and_window_intact()
    {
        var (_, events) = BusyMeter();
        var accepted = events.OfType<ReadingsAccepted>().First();
        var back = RoundTrip(accepted);
        Assert.Equal(accepted.Readings, back.Readings);
        Assert.Equal((accepted.MeterId, accepted.Region, accepted.Duplicates, accepted.TooLate), (back.MeterId, back.Region, back.Duplicates, back.TooLate));

        var emitted = events.OfType<WindowsEmitted>().First();
        var emittedBack = RoundTrip(emitted);
        Assert.Equal(emitted.Windows, emittedBack.Windows);
        Assert.Equal(emitted.Anomalies, emittedBack.Anomalies);
    }

    [Fact]
    public void Should_restore_a_meter_from_its_snapshot_to_the_same_state()
    {
        var (state, _) = BusyMeter();
        var snapshot = state.ToSnapshot();
        var restored = MeterState.FromSnapshot(RoundTrip(snapshot));
        Assert.Equal(state.Watermark, restored.Watermark);
        Assert.Equal(state.AcceptedTotal, restored.AcceptedTotal);
        Assert.Equal(state.Baseline, restored.Baseline);
        Assert.Equal(state.Windows.ToList(), restored.Windows.ToList());
        // The restored meter still recognises a reading it already has.
        var again = restored.Decide([Reading(19 * 60, 1)], idle: false, new MeterPolicy());
        Assert.Equal(1, ((ReadingsAccepted)again[0]).Duplicates);
    }

    [Fact]
    public void Should_write_a_meter_snapshot_compactly_and_read_it_back_exactly()
    {
        var (state, _) = BusyMeter();
        var snapshot = state.ToSnapshot();
        var serializer = (SmartGridSerializer)Sys.Serialization.FindSerializerFor(snapshot);

        var back = RoundTrip(snapshot);

        Assert.Equal(snapshot.Seen, back.Seen);
        Assert.Equal(snapshot.Windows, back.Windows);
        Assert.Equal(snapshot.Baseline, back.Baseline);
        Assert.Equal((snapshot.MeterId, snapshot.Region, snapshot.Watermark, snapshot.Newest, snapshot.AcceptedTotal, snapshot.DuplicatesTotal, snapshot.TooLateTotal),
            (back.MeterId, back.Region, back.Watermark, back.Newest, back.AcceptedTotal, back.DuplicatesTotal, back.TooLateTotal));
        var json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(snapshot, SnakeCaseJson);
        Assert.True(serializer.ToBinary(snapshot).Length * 3 < json.Length, $"{serializer.ToBinary(snapshot).Length} bytes against {json.Length} as JSON");
    }

    [Fact]
    public void Should_keep_voltage_extremes_and_an_open_voltage_run_across_a_binary_snapshot()
    {
        var state = new MeterState("MTR-00000042");
        var policy = new MeterPolicy();
        var observed = new List<VoltageEventsObserved>();
        // 231.5 V, then a sag of 200 and 180 V still in progress.
        foreach (var e in state.Decide([Reading(0, 1), Reading(10, 1) with { Voltage = 200 }, Reading(20, 1) with { Voltage = 180 }], idle: false, policy))
        {
            if (e is ReadingsAccepted r) state.Apply(r, policy);
            if (e is VoltageEventsObserved v) observed.Add(v);
        }

        var back = RoundTrip(state.ToSnapshot());
        var restored = MeterState.FromSnapshot(back);

        Assert.All(back.Windows, w => Assert.Equal((180.0, 231.5), (w.Aggregate.VoltageMin, w.Aggregate.VoltageMax)));
        Assert.Equal(state.OpenVoltageEvent(policy), restored.OpenVoltageEvent(policy));
        Assert.Equal(180, restored.OpenVoltageEvent(policy)!.ExtremeVoltage);
        var observedBack = RoundTrip(Assert.Single(observed));
        Assert.Equal(observed[0].Events, observedBack.Events);
    }

    [Fact]
    public void Should_keep_the_reporting_interval_and_an_open_customer_interruption_across_a_binary_snapshot()
    {
        var state = new MeterState("MTR-00000042");
        var policy = new MeterPolicy();
        var observed = new List<CustomerInterruptionsObserved>();
        // Every 10 s, then a last gasp at 0 V that nothing has ended yet.
        foreach (var e in state.Decide([Reading(0, 1), Reading(10, 1), Reading(20, 0) with { Voltage = 0 }], idle: false, policy))
        {
            if (e is ReadingsAccepted r) state.Apply(r, policy);
            if (e is CustomerInterruptionsObserved i) observed.Add(i);
        }

        var restored = MeterState.FromSnapshot(RoundTrip(state.ToSnapshot()));

        Assert.Equal(new CustomerInterruption("MTR-00000042", T0.AddSeconds(20), null, InterruptionStart.LastGasp), restored.OpenInterruption);
        Assert.Equal(TimeSpan.FromSeconds(10), restored.ReportingInterval);
        var observedBack = RoundTrip(Assert.Single(observed));
        Assert.Equal((observed[0].MeterId, observed[0].Region), (observedBack.MeterId, observedBack.Region));
        Assert.Equal(observed[0].Interruptions, observedBack.Interruptions);
    }

    [Fact]
    public void Should_keep_weekday_and_weekend_baseline_slots_apart_across_a_binary_snapshot()
    {
        var (state, _) = BusyMeter(); // T0 is a Sunday: it learned weekend 18:00 only
        var back = RoundTrip(state.ToSnapshot());

        Assert.Equal(MeterBaseline.SlotCount, back.Baseline.Means.Count);
        Assert.Equal(state.Baseline, back.Baseline);
        Assert.True(back.Baseline.SamplesAt(T0.AddDays(6)) > 0); // the next Saturday 18:00
        Assert.Equal(0, back.Baseline.SamplesAt(T0.AddDays(1))); // Monday 18:00
    }

    [Fact]
    public void Should_still_read_a_binary_snapshot_whose_baseline_has_one_slot_per_hour()
    {
        // The format 4 layout as written before the baseline had day types: 24 slots, 18:00 learned, nothing else held.
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer))
        {
            w.Write((byte)4);
            w.Write("MTR-00000042");
            w.Write("Nashik");
            w.Write(T0.UtcTicks);
            w.Write(T0.UtcTicks);
            w.Write7BitEncodedInt64(15);
            w.Write7BitEncodedInt64(0);
            w.Write7BitEncodedInt64(0);
            w.Write(0.1);
            w.Write7BitEncodedInt(10);
            w.Write((short)0);
            w.Write((byte)24);
            for (var h = 0; h < 24; h++) w.Write(h == 18 ? 3.125 : 0.0);
            for (var h = 0; h < 24; h++) w.Write7BitEncodedInt(h == 18 ? 12 : 0);
            w.Write7BitEncodedInt(0); // seen
            w.Write7BitEncodedInt(0); // windows
            w.Write((sbyte)0); // no voltage run
            w.Write7BitEncodedInt64(0); // no interval
            w.Write((byte)0); // no interruption
        }
        var serializer = (SmartGridSerializer)Sys.Serialization.FindSerializerFor(new GetMeterStatus("MTR-00000042"));

        var back = (MeterSnapshot)serializer.FromBinary(buffer.ToArray(), SmartGridSerializer.Manifests[typeof(MeterSnapshot)]);

        // The hour's history stands for both day types: Sunday's (T0) and Monday's 18:00.
        Assert.Equal(3.125, back.Baseline.Expected(T0));
        Assert.Equal(3.125, back.Baseline.Expected(T0.AddDays(1)));
        Assert.Null(back.Baseline.Expected(T0.AddHours(1)));
        Assert.Equal(15, back.AcceptedTotal);
        Assert.Equal(back.Baseline, RoundTrip(back).Baseline);
    }

    [Fact]
    public void Should_still_recover_a_meter_from_a_snapshot_written_as_json_before_the_binary_format()
    {
        // Exactly what the v1 serializer wrote for a meter 15 readings in (three open windows): snapshots live for years.
        const string v1 = """
            {"meter_id":"MTR-00000042","region":"Nashik","watermark":"2026-03-01T18:02:20+00:00","accepted_total":15,"duplicates_total":0,"too_late_total":0,
            "baseline":{"alpha":0.1,"min_samples":10,"utc_offset_minutes":0,"means":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,3.125,0,0,0,0,0],"counts":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0]},
            "seen":[639079848000000000,639079848100000000,639079848200000000,639079848300000000,639079848400000000,639079848500000000,639079848600000000,639079848700000000,639079848800000000,639079848900000000,639079849000000000,639079849100000000,639079849200000000,639079849300000000,639079849400000000],
            "windows":[{"aggregate":{"meter_id":"MTR-00000042","region":"Nashik","window_size":"15m","window_start":"2026-03-01T18:00:00+00:00","window_end":"2026-03-01T18:15:00+00:00","reading_count":15,"energy_kwh_sum":0.10350000000000004,"power_kw_sum":63.75,"power_kw_min":2.5,"power_kw_max":6,"voltage_sum":3472.5,"current_sum":162.00000000000003,"power_factor_sum":7.759999999999999,"power_factor_count":8,"frequency_sum":750.15,"frequency_count":15,"power_kw_avg":4.25,"voltage_avg":231.5,"current_avg":10.800000000000002,"power_factor_avg":0.9699999999999999,"frequency_avg":50.01},"revision":0,"dirty":true},
            {"aggregate":{"meter_id":"MTR-00000042","region":"Nashik","window_size":"1m","window_start":"2026-03-01T18:01:00+00:00","window_end":"2026-03-01T18:02:00+00:00","reading_count":6,"energy_kwh_sum":0.041400000000000006,"power_kw_sum":27.75,"power_kw_min":4,"power_kw_max":5.25,"voltage_sum":1389,"current_sum":64.8,"power_factor_sum":2.91,"power_factor_count":3,"frequency_sum":300.06,"frequency_count":6,"power_kw_avg":4.625,"voltage_avg":231.5,"current_avg":10.799999999999999,"power_factor_avg":0.9700000000000001,"frequency_avg":50.01},"revision":0,"dirty":true},
            {"aggregate":{"meter_id":"MTR-00000042","region":"Nashik","window_size":"1m","window_start":"2026-03-01T18:02:00+00:00","window_end":"2026-03-01T18:03:00+00:00","reading_count":3,"energy_kwh_sum":0.0207,"power_kw_sum":17.25,"power_kw_min":5.5,"power_kw_max":6,"voltage_sum":694.5,"current_sum":32.400000000000006,"power_factor_sum":1.94,"power_factor_count":2,"frequency_sum":150.03,"frequency_count":3,"power_kw_avg":5.75,"voltage_avg":231.5,"current_avg":10.800000000000002,"power_factor_avg":0.97,"frequency_avg":50.01},"revision":0,"dirty":true}]}
            """;
        var serializer = (SmartGridSerializer)Sys.Serialization.FindSerializerFor(new GetMeterStatus("MTR-00000042"));

        var state = MeterState.FromSnapshot((MeterSnapshot)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(v1), "meter.snapshot.v1"));

        Assert.Equal((15L, T0.AddSeconds(140), T0.AddSeconds(140)), (state.AcceptedTotal, state.Watermark, state.Newest));
        Assert.Equal([6, 3, 15], state.Windows.Select(w => w.Aggregate.ReadingCount));
        Assert.Equal(1, state.Baseline.SamplesAt(T0));
        // It still knows what it has, and carries on: 18:01 is published when the watermark passes 18:03.
        var policy = new MeterPolicy();
        var decided = state.Decide([Reading(130, 1), Reading(180, 1), Reading(190, 1)], idle: false, policy);
        Assert.Equal(1, ((ReadingsAccepted)decided[0]).Duplicates);
        var published = Assert.Single(((WindowsEmitted)decided[1]).Windows);
        Assert.Equal((T0.AddMinutes(1), 6, 27.75), (published.Aggregate.WindowStart, published.Aggregate.ReadingCount, published.Aggregate.PowerKwSum));
    }

    [Fact]
    public void Should_round_trip_region_events_snapshot_and_messages()
    {
        var (_, events) = BusyMeter();
        var windows = events.OfType<WindowsEmitted>().SelectMany(e => e.Windows).ToList();
        var region = new RegionState("Nashik");
        var received = region.Decide(windows, T0.AddHours(1))!;
        region.Apply(received, new RegionPolicy());
        var emission = region.DecideEmission(idle: true, capacityKw: 2500)!;
        region.Apply(emission, new RegionPolicy());

        Assert.Equal(received.Windows, RoundTrip(received).Windows);
        Assert.Equal(emission.Windows, RoundTrip(emission).Windows);
        var restored = RegionState.FromSnapshot(RoundTrip(region.ToSnapshot()));
        Assert.Null(restored.Decide(windows, T0.AddHours(2)));
        Assert.Equal(windows, RoundTrip(new RecordMeterWindows("Nashik", windows)).Windows);
        Assert.Equal(new MeterWindowsRecorded("Nashik", 3), RoundTrip(new MeterWindowsRecorded("Nashik", 3)));

        // With a tree, each regional window carries its transformers' and feeders' windows.
        var layout = new GridLayout(
            [new GridNodeRating("FD-N", GridNodeKind.Feeder, "Nashik", "Nashik", 100), new GridNodeRating("TR-N", GridNodeKind.Transformer, "Nashik", "FD-N", 20)],
            windows.Select(w => w.Aggregate.MeterId).Distinct().Select(m => new PlacementSpan(m, "TR-N", T0.AddDays(-1), null)), T0);
        var treed = new RegionState("Nashik");
        treed.Apply(treed.Decide(windows, T0.AddHours(1))!, new RegionPolicy());
        var withNodes = treed.DecideEmission(idle: true, capacityKw: 2500, layout)!;
        var nodes = withNodes.Windows.SelectMany(w => w.Nodes!).ToList();
        Assert.Equal(withNodes.Windows.Count * 2, nodes.Count);
        Assert.Equal(nodes, RoundTrip(withNodes).Windows.SelectMany(w => w.Nodes!));
    }

    [Fact]
    public void Should_write_a_regions_meter_windows_and_snapshot_compactly_and_still_read_them_as_json()
    {
        var (_, events) = BusyMeter();
        var windows = events.OfType<WindowsEmitted>().SelectMany(e => e.Windows).ToList();
        // A window that names another region, as a meter's window fixed before its move would.
        windows.Add(windows[0] with { Aggregate = windows[0].Aggregate with { Region = "Pune-West", MeterId = "MTR-00000043" } });
        var region = new RegionState("Nashik");
        var received = region.Decide(windows, T0.AddHours(1))!;
        region.Apply(received, new RegionPolicy());
        region.Apply(region.DecideEmission(idle: false, capacityKw: 2500)!, new RegionPolicy());
        var snapshot = region.ToSnapshot();
        var serializer = (SmartGridSerializer)Sys.Serialization.FindSerializerFor(received);

        var receivedBytes = serializer.ToBinary(received);
        var receivedBack = RoundTrip(received);
        Assert.Equal(received.Windows, receivedBack.Windows);
        Assert.Equal((received.Region, received.ReceivedAt), (receivedBack.Region, receivedBack.ReceivedAt));
        var snapshotBytes = serializer.ToBinary(snapshot);
        var snapshotBack = RoundTrip(snapshot);
        Assert.Equal(snapshot.Windows.SelectMany(w => w.Meters), snapshotBack.Windows.SelectMany(w => w.Meters));
        Assert.Equal(snapshot.Windows.Select(w => w with { Meters = [] }), snapshotBack.Windows.Select(w => w with { Meters = [] }));
        Assert.Equal((snapshot.Region, snapshot.LastReceivedAt, snapshot.LateWindowsDropped), (snapshotBack.Region, snapshotBack.LastReceivedAt, snapshotBack.LateWindowsDropped));
        Assert.Equal(snapshot.Watermarks, snapshotBack.Watermarks);

        // Journals and snapshot tables written before the binary forms must still recover: v1 was this JSON.
        var v1 = new System.Text.Json.JsonSerializerOptions(SnakeCaseJson)
        {
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
            Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
        };
        var receivedJson = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(received, v1);
        Assert.Equal(received.Windows, ((MeterWindowsReceived)serializer.FromBinary(receivedJson, "region.meter-windows-received.v1")).Windows);
        var snapshotJson = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(snapshot, v1);
        var fromJson = RegionState.FromSnapshot((RegionSnapshot)serializer.FromBinary(snapshotJson, "region.snapshot.v1"));
        Assert.Null(fromJson.Decide(windows, T0.AddHours(2)));

        // The bulk of a region at scale: a quarter of the JSON or less.
        Assert.True(receivedBytes.Length * 4 < receivedJson.Length, $"{receivedBytes.Length} bytes against {receivedJson.Length} in JSON");
        Assert.True(snapshotBytes.Length * 4 < snapshotJson.Length, $"{snapshotBytes.Length} bytes against {snapshotJson.Length} in JSON");
    }

    [Fact]
    public void Should_round_trip_meter_commands_and_replies()
    {
        var record = new RecordReadings("17", [new MeterReadings("MTR-00000042", [Reading(0, 2.5), Reading(10, 2.6)]), new MeterReadings("MTR-00000043", [Reading(0, 1.5)])], Run: 7);
        var recordBack = RoundTrip(record);
        Assert.Equal((record.BucketId, record.Run), (recordBack.BucketId, recordBack.Run));
        Assert.Equal(record.Meters.Select(m => (m.MeterId, m.Readings.Count)), recordBack.Meters.Select(m => (m.MeterId, m.Readings.Count)));
        Assert.Equal(record.Meters[0].Readings, recordBack.Meters[0].Readings);
        var incarnation = Guid.NewGuid();
        Assert.Equal(new ReadingsRecorded("17", 2, 1, 0, incarnation), RoundTrip(new ReadingsRecorded("17", 2, 1, 0, incarnation)));
        Assert.Equal(new CheckpointReadings("17", incarnation), RoundTrip(new CheckpointReadings("17", incarnation)));
        Assert.Equal(new ReadingsCheckpointed("17", 2, 3), RoundTrip(new ReadingsCheckpointed("17", 2, 3)));
        var refused = new CheckpointRefused("17", incarnation, Guid.NewGuid());
        Assert.Equal(refused, RoundTrip(refused));
        Assert.Equal(new GetMeterStatus("MTR-00000042"), RoundTrip(new GetMeterStatus("MTR-00000042")));
        var status = new MeterStatus("MTR-00000042", "Nashik", T0, 10, 1, 0,
            [new MeterWindowStatus("OneMinute", T0, 6, 2.5, 1, false)], Enumerable.Repeat<double?>(null, 24).ToArray());
        var statusBack = RoundTrip(status);
        Assert.Equal(status.OpenWindows, statusBack.OpenWindows);
        Assert.Equal(status.BaselineKwByHour, statusBack.BaselineKwByHour);
    }
}
