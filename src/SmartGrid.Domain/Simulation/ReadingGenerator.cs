using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Domain.Simulation;

/// <summary>What a simulated meter is doing at a tick.</summary>
public enum MeterCondition
{
    Normal = 0,

    /// <summary>Drawing a multiple of its usual power (a fault, a heater left on).</summary>
    Spike = 1,

    /// <summary>Drawing a fraction of its usual power.</summary>
    Drop = 2,

    /// <summary>Silent: no reading is sent, but for the last gasp (0–3 V) at the outage's first tick when the meter has one.</summary>
    Outage = 3,

    /// <summary>Voltage below 90 % of nominal (60–88 %). Voltage conditions are independent of the power ones.</summary>
    Sag = 4,

    /// <summary>Voltage above 110 % of nominal (111–118 %).</summary>
    Swell = 5,

    /// <summary>Voltage offset from nominal for hours (−6 to −12 %, or +6 to +10 %).</summary>
    Drift = 6,
}

/// <summary>
/// Produces the fleet's readings for any tick, deterministically: the same seed and tick give
/// identical readings, whatever was generated before, so the simulator can replay a day,
/// skip ahead, or generate ticks in parallel.
/// <para>
/// Every random draw comes from a generator keyed by (seed, meter, tick); episodes that last
/// longer than a tick (spikes, drops, outages) are keyed by (seed, meter, episode slot), where
/// slots tile time in steps of the episode's duration, so a meter's whole episode agrees
/// without any state carried from tick to tick.
/// </para>
/// <para>Immutable after construction: one instance can serve many threads.</para>
/// </summary>
public sealed class ReadingGenerator
{
    private const ulong ReadingSalt = 0x72656164; // "read"
    private const ulong FrequencySalt = 0x66726571; // "freq"
    private const ulong SpikeSalt = 0x7370696b65; // "spike"
    private const ulong DropSalt = 0x64726f70; // "drop"
    private const ulong OutageSalt = 0x6f75746167; // "outag"
    private const ulong GaspSalt = 0x67617370; // "gasp"
    private const ulong SagSalt = 0x736167; // "sag"
    private const ulong SwellSalt = 0x7377656c6c; // "swell"
    private const ulong DriftSalt = 0x6472696674; // "drift"

    // Share of the meter's peak at each local hour (linear in between). Hand-drawn after the
    // familiar shapes: homes peak around 20:00 with a smaller morning peak, offices follow
    // working hours, plants run around the clock.
    private static readonly double[] ResidentialCurve =
    [
        0.30, 0.25, 0.22, 0.20, 0.20, 0.25, 0.45, 0.70, 0.75, 0.55, 0.42, 0.40,
        0.45, 0.45, 0.40, 0.38, 0.42, 0.55, 0.80, 0.95, 1.00, 0.92, 0.70, 0.45,
    ];

    private static readonly double[] CommercialCurve =
    [
        0.12, 0.12, 0.12, 0.12, 0.12, 0.12, 0.15, 0.25, 0.55, 0.90, 1.00, 1.00,
        0.95, 0.95, 1.00, 1.00, 0.95, 0.85, 0.60, 0.40, 0.30, 0.22, 0.15, 0.12,
    ];

    private static readonly double[] IndustrialCurve =
    [
        0.72, 0.72, 0.72, 0.72, 0.72, 0.72, 0.78, 0.85, 0.90, 0.93, 0.95, 0.95,
        0.92, 0.93, 0.95, 0.95, 0.93, 0.90, 0.88, 0.85, 0.82, 0.78, 0.75, 0.72,
    ];

    private static readonly double ResidentialBase = ResidentialCurve.Min();
    private static readonly double CommercialBase = CommercialCurve.Min();
    private static readonly double IndustrialBase = IndustrialCurve.Min();

    // Keeps current (P / (V·pf)) well inside the validator's 1000 A even in a spike.
    private const double MaxPowerKw = 150;
    private const double MinPowerKw = 0.001;
    private const ulong MeterSalt = 0x6d65746572; // "meter"

    private readonly SimulationOptions _options;
    private readonly SimulatedMeter[] _meters;
    private readonly ulong[] _meterKeys;
    private readonly long _intervalTicks;
    private readonly double _intervalHours;
    private readonly Episode _spike;
    private readonly Episode _drop;
    private readonly Episode _outage;
    private readonly Episode _sag;
    private readonly Episode _swell;
    private readonly Episode _drift;

    public ReadingGenerator(MeterFleet fleet)
    {
        Fleet = fleet;
        _options = fleet.Options;
        _meters = fleet.Meters.ToArray();
        _meterKeys = Array.ConvertAll(_meters, MeterKey);
        _intervalTicks = _options.Interval.Ticks;
        _intervalHours = _options.Interval.TotalHours;
        _spike = new Episode(_options.SpikesPerMeterPerDay, _options.SpikeDuration, SpikeSalt);
        _drop = new Episode(_options.DropsPerMeterPerDay, _options.DropDuration, DropSalt);
        _outage = new Episode(_options.OutagesPerMeterPerDay, _options.OutageDuration, OutageSalt);
        _sag = new Episode(_options.SagsPerMeterPerDay, _options.SagDuration, SagSalt);
        _swell = new Episode(_options.SwellsPerMeterPerDay, _options.SwellDuration, SwellSalt);
        _drift = new Episode(_options.DriftsPerMeterPerDay, _options.DriftDuration, DriftSalt);
    }

    public MeterFleet Fleet { get; }

    /// <summary>The tick a time belongs to: floored to the interval on the UTC epoch.</summary>
    public DateTimeOffset AlignToTick(DateTimeOffset time)
    {
        long ticks = time.UtcTicks;
        return new DateTimeOffset(ticks - ticks % _intervalTicks, TimeSpan.Zero);
    }

    /// <summary>
    /// One reading per meter that is not in an outage, stamped with the tick (aligned with
    /// <see cref="AlignToTick"/>), in meter order.
    /// </summary>
    public IReadOnlyList<TelemetryReading> ReadingsAt(DateTimeOffset tick)
    {
        var context = new TickContext(this, AlignToTick(tick));
        var readings = new List<TelemetryReading>(_meters.Length);
        for (int i = 0; i < _meters.Length; i++)
        {
            if (Generate(_meters[i], _meterKeys[i], context) is { } reading)
            {
                readings.Add(reading);
            }
        }

        return readings;
    }

    /// <summary>The meter's reading at the tick, or null while it is in an outage.</summary>
    public TelemetryReading? ReadingAt(SimulatedMeter meter, DateTimeOffset tick) =>
        Generate(meter, MeterKey(meter), new TickContext(this, AlignToTick(tick)));

    public MeterCondition ConditionAt(SimulatedMeter meter, DateTimeOffset tick) =>
        Condition(MeterKey(meter), new TickContext(this, AlignToTick(tick)), out _);

    /// <summary>The meter's voltage condition at the tick: <see cref="MeterCondition.Sag"/>, <see cref="MeterCondition.Swell"/>, <see cref="MeterCondition.Drift"/> or normal.</summary>
    public MeterCondition VoltageConditionAt(SimulatedMeter meter, DateTimeOffset tick) =>
        VoltageCondition(MeterKey(meter), new TickContext(this, AlignToTick(tick)), out _);

    /// <summary>Whether the meter sends its last gasp at this tick: the first tick of an outage, for the share of outages that have one.</summary>
    public bool IsLastGasp(SimulatedMeter meter, DateTimeOffset tick) => IsLastGasp(MeterKey(meter), new TickContext(this, AlignToTick(tick)));

    /// <summary>The meter's noise-free power (kW) at this time on its daily curve, outside any episode.</summary>
    public double CurvePowerKw(SimulatedMeter meter, DateTimeOffset time) =>
        meter.PeakKw * CurveShare(meter, time.UtcTicks + _options.LocalOffset.Ticks);

    private ulong MeterKey(SimulatedMeter meter) => DeterministicRandom.Key(_options.Seed, meter.Index, MeterSalt);

    private TelemetryReading? Generate(SimulatedMeter meter, ulong meterKey, in TickContext context)
    {
        MeterCondition condition = Condition(meterKey, context, out double episodeFactor);
        if (condition == MeterCondition.Outage)
        {
            return IsLastGasp(meterKey, context) ? LastGasp(meter, meterKey, context) : null;
        }

        var random = DeterministicRandom.For(meterKey, context.ReadingKey);

        double share = CurveShare(meter, context.LocalTicks);
        double noise = 1.0 + _options.NoisePercent / 100.0 * random.NextSymmetric();
        double powerKw = Math.Round(Math.Clamp(meter.PeakKw * share * noise * episodeFactor, MinPowerKw, MaxPowerKw), 3);

        // Two thirds of the voltage spread is where the meter sits on its feeder (lasting),
        // one third is moment-to-moment fluctuation.
        double voltagePercent = meter.VoltageOffsetPercent + _options.VoltageSpreadPercent / 3.0 * random.NextSymmetric();
        double voltage = VoltageCondition(meterKey, context, out double voltageDraw) switch
        {
            MeterCondition.Sag => _options.NominalVoltage * (0.60 + 0.28 * voltageDraw) * (1.0 + voltagePercent / 1000.0),
            MeterCondition.Swell => _options.NominalVoltage * (1.11 + 0.07 * voltageDraw) * (1.0 + voltagePercent / 1000.0),
            MeterCondition.Drift => _options.NominalVoltage * (1.0 + DriftPercent(voltageDraw) / 100.0 + voltagePercent / 300.0),
            _ => _options.NominalVoltage * (1.0 + voltagePercent / 100.0),
        };
        voltage = Math.Round(voltage, 1);

        // Frequency is one value for the whole synchronous grid, plus a little measurement noise.
        double frequency = Math.Round(
            _options.NominalFrequency + context.GridFrequencyOffset + 0.2 * _options.FrequencySpreadHz * random.NextSymmetric(), 3);

        double powerFactor = Math.Round(Math.Clamp(meter.PowerFactor + 0.02 * random.NextSymmetric(), 0.85, 1.0), 2);

        // Derived from the rounded values, so P = V·I·pf holds to the current's rounding.
        double current = Math.Round(powerKw * 1000.0 / (voltage * powerFactor), 3);
        double energyKwh = Math.Round(powerKw * _intervalHours, 6);

        return new TelemetryReading
        {
            MeterId = meter.MeterId,
            Timestamp = context.Time,
            Voltage = voltage,
            Current = current,
            PowerKw = powerKw,
            EnergyKwh = energyKwh,
            PowerFactor = powerFactor,
            Frequency = frequency,
            Region = meter.Region,
        };
    }

    /// <summary>The meter's last reading as its supply fails: a few volts or none, no power drawn.</summary>
    private static TelemetryReading LastGasp(SimulatedMeter meter, ulong meterKey, in TickContext context)
    {
        var random = DeterministicRandom.For(meterKey, context.ReadingKey);
        return new TelemetryReading
        {
            MeterId = meter.MeterId, Timestamp = context.Time, Voltage = Math.Round(3 * random.NextDouble(), 1), Current = 0, PowerKw = 0,
            EnergyKwh = 0, PowerFactor = null, Frequency = null, Region = meter.Region,
        };
    }

    /// <summary>The first tick of an outage (the tick before was not one) whose draw gives it a last gasp.</summary>
    private bool IsLastGasp(ulong meterKey, in TickContext context)
    {
        if (!_outage.IsActive(meterKey, context.OutageKey, out _)) return false;
        var before = new TickContext(this, context.Time - _options.Interval);
        if (_outage.IsActive(meterKey, before.OutageKey, out _)) return false;
        return DeterministicRandom.For(meterKey, DeterministicRandom.Key(_options.Seed, _outage.Slot(context.Time.UtcTicks), GaspSalt)).NextDouble()
               < _options.LastGaspShare;
    }

    /// <summary>Sag over swell over drift when episodes overlap; <paramref name="draw"/> is the episode's magnitude.</summary>
    private MeterCondition VoltageCondition(ulong meterKey, in TickContext context, out double draw)
    {
        if (_sag.IsActive(meterKey, context.SagKey, out draw)) return MeterCondition.Sag;
        if (_swell.IsActive(meterKey, context.SwellKey, out draw)) return MeterCondition.Swell;
        if (_drift.IsActive(meterKey, context.DriftKey, out draw)) return MeterCondition.Drift;
        return MeterCondition.Normal;
    }

    /// <summary>Seven drifts in ten go low (−6 to −12 %), the rest high (+6 to +10 %).</summary>
    private static double DriftPercent(double draw) => draw < 0.7 ? -(6 + 6 * draw / 0.7) : 6 + 4 * (draw - 0.7) / 0.3;

    private MeterCondition Condition(ulong meterKey, in TickContext context, out double episodeFactor)
    {
        episodeFactor = 1.0;
        if (_outage.IsActive(meterKey, context.OutageKey, out _))
        {
            return MeterCondition.Outage;
        }

        if (_spike.IsActive(meterKey, context.SpikeKey, out double spikeDraw))
        {
            episodeFactor = 2.2 + 2.8 * spikeDraw;
            return MeterCondition.Spike;
        }

        if (_drop.IsActive(meterKey, context.DropKey, out double dropDraw))
        {
            episodeFactor = 0.02 + 0.43 * dropDraw;
            return MeterCondition.Drop;
        }

        return MeterCondition.Normal;
    }

    /// <param name="localTicks">The instant on the customers' local clock, in ticks.</param>
    private static double CurveShare(SimulatedMeter meter, long localTicks)
    {
        // Integer arithmetic on ticks rather than DateTime: this runs for every reading.
        long shifted = localTicks + meter.CurveShift.Ticks;
        long day = Math.DivRem(shifted, TimeSpan.TicksPerDay, out long timeOfDay);
        double hour = (double)timeOfDay / TimeSpan.TicksPerHour;
        int h0 = (int)hour;
        double[] curve = meter.CustomerType switch
        {
            CustomerType.Residential => ResidentialCurve,
            CustomerType.Commercial => CommercialCurve,
            _ => IndustrialCurve,
        };
        double share = curve[h0] + (curve[(h0 + 1) % 24] - curve[h0]) * (hour - h0);

        // The day of the week changes the load above the night's base (an office closed on Sunday), not the base
        // itself (its servers and fridges run every night): scaling the whole curve tripled a closed office's
        // draw in the minute it turned Monday, a step no real meter makes.
        // Day 0 of DateTime (0001-01-01) was a Monday.
        double night = BaseShare(meter.CustomerType);
        return night + (share - night) * WeekdayFactor(meter.CustomerType, (DayOfWeek)((day + 1) % 7));
    }

    /// <summary>The lowest share of a customer type's curve: what it draws when closed or asleep.</summary>
    private static double BaseShare(CustomerType type) => type switch
    {
        CustomerType.Residential => ResidentialBase,
        CustomerType.Commercial => CommercialBase,
        _ => IndustrialBase,
    };

    private static double WeekdayFactor(CustomerType type, DayOfWeek day) => (type, day) switch
    {
        (CustomerType.Commercial, DayOfWeek.Saturday) => 0.6,
        (CustomerType.Commercial, DayOfWeek.Sunday) => 0.35,
        (CustomerType.Industrial, DayOfWeek.Sunday) => 0.8,
        (CustomerType.Residential, DayOfWeek.Saturday or DayOfWeek.Sunday) => 1.05,
        _ => 1.0,
    };

    /// <summary>
    /// A kind of episode. Episodes tile time in slots of their duration, and each (meter, slot)
    /// is one independent draw; this makes the expected number per meter per day equal the
    /// configured rate.
    /// </summary>
    private readonly struct Episode(double perDay, TimeSpan duration, ulong salt)
    {
        private readonly double _probability = Math.Min(1.0, perDay * duration.TotalDays);

        public long Slot(long utcTicks) => utcTicks / duration.Ticks;

        public ulong Salt => salt;

        /// <summary>
        /// Whether the meter is in such an episode in the slot; if so <paramref name="magnitude"/>
        /// is a uniform draw fixed for the whole episode.
        /// </summary>
        public bool IsActive(ulong meterKey, ulong slotKey, out double magnitude)
        {
            magnitude = 0;
            if (_probability <= 0)
            {
                return false;
            }

            var random = DeterministicRandom.For(meterKey, slotKey);
            if (random.NextDouble() >= _probability)
            {
                return false;
            }

            magnitude = random.NextDouble();
            return true;
        }
    }

    /// <summary>What all meters share at one tick, computed once per tick rather than per meter.</summary>
    private readonly struct TickContext
    {
        public TickContext(ReadingGenerator generator, DateTimeOffset time)
        {
            long seed = generator._options.Seed;
            Time = time;
            long utcTicks = time.UtcTicks;
            long tickIndex = utcTicks / generator._intervalTicks;
            LocalTicks = utcTicks + generator._options.LocalOffset.Ticks;
            ReadingKey = DeterministicRandom.Key(seed, tickIndex, ReadingSalt);
            SpikeKey = DeterministicRandom.Key(seed, generator._spike.Slot(utcTicks), generator._spike.Salt);
            DropKey = DeterministicRandom.Key(seed, generator._drop.Slot(utcTicks), generator._drop.Salt);
            OutageKey = DeterministicRandom.Key(seed, generator._outage.Slot(utcTicks), generator._outage.Salt);
            SagKey = DeterministicRandom.Key(seed, generator._sag.Slot(utcTicks), generator._sag.Salt);
            SwellKey = DeterministicRandom.Key(seed, generator._swell.Slot(utcTicks), generator._swell.Salt);
            DriftKey = DeterministicRandom.Key(seed, generator._drift.Slot(utcTicks), generator._drift.Salt);
            var grid = DeterministicRandom.For(DeterministicRandom.Key(seed, tickIndex, FrequencySalt), 0);
            GridFrequencyOffset = 0.8 * generator._options.FrequencySpreadHz * grid.NextSymmetric();
        }

        public DateTimeOffset Time { get; }
        public long LocalTicks { get; }
        public ulong ReadingKey { get; }
        public ulong SpikeKey { get; }
        public ulong DropKey { get; }
        public ulong OutageKey { get; }
        public ulong SagKey { get; }
        public ulong SwellKey { get; }
        public ulong DriftKey { get; }
        public double GridFrequencyOffset { get; }
    }
}
