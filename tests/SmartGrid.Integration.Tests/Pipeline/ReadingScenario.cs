using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Integration.Tests.Pipeline;

/// <summary>
/// A stream as real meters produce it, with the faults the pipeline must absorb: re-sent
/// readings, readings swapped in time (late but within lateness), and stragglers far too late;
/// and supply outages: a meter's last gasp (0–3 V) or none, silence for 30 s to 10 minutes, and now
/// and then a supply that comes back low (150 V) before it is restored. Seeded, so a failure reproduces.
/// </summary>
public static class ReadingScenario
{
    public static readonly string[] Regions = ["Mumbai-Central", "Mumbai-North", "Pune-West", "Nashik"];

    /// <summary>
    /// A tree for the meters <see cref="Generate"/> makes: per region one feeder (rated 200 kW) and two transformers (20 kW),
    /// meters dealt over them alternately; ratings small enough that the scenario's loads run above 50 %.
    /// </summary>
    public static GroundTruth.Tree Tree(int meters)
    {
        var transformerOf = Enumerable.Range(1, meters).ToDictionary(m => $"MTR-{m:D8}", m => $"TR-SC-{(m - 1) % Regions.Length}-{(m - 1) / Regions.Length % 2}");
        var transformers = transformerOf.Values.Distinct().ToDictionary(t => t, t =>
            (Feeder: $"FD-SC-{t.Split('-')[2]}", Region: Regions[int.Parse(t.Split('-')[2], System.Globalization.CultureInfo.InvariantCulture)], RatedKw: 20.0));
        return new GroundTruth.Tree(transformerOf, transformers, transformers.Values.Select(t => t.Feeder).Distinct().ToDictionary(f => f, _ => 200.0));
    }

    public static List<TelemetryReading> Generate(int meters, TimeSpan span, DateTimeOffset start, int seed)
    {
        var random = new Random(seed);
        var ticks = (int)(span / TimeSpan.FromSeconds(10));
        var stream = new List<TelemetryReading>();
        var sent = new List<TelemetryReading>();
        var previousTickAt = -1;
        // Outages draw from their own generator, so the readings' values draw as they did before them.
        var faults = new Random(seed * 7919 + 1);
        var outage = new (int From, int To, bool LastGasp, bool BackLow)[meters + 1];
        for (var t = 0; t < ticks; t++)
        {
            var tick = new List<TelemetryReading>();
            for (var m = 1; m <= meters; m++)
            {
                if (t >= outage[m].To && t > 3 && t < ticks - 3 && faults.NextDouble() < 1.0 / 250)
                    outage[m] = (t, t + faults.Next(3, 60), faults.NextDouble() < 0.6, faults.NextDouble() < 0.25);
                var ts = start + TimeSpan.FromSeconds(10 * t) + TimeSpan.FromMilliseconds(m * 7);
                var power = Math.Round(0.5 + 4 * random.NextDouble(), 4);
                var drawn = 225 + 10 * random.NextDouble();
                // About 1 reading in 100 sags and 1 in 200 swells, from the draw itself so the rest of the scenario stays as it was.
                var voltage = drawn > 234.9 ? 190 + drawn - 234.9 : drawn < 225.05 ? 255 + drawn - 225 : Math.Round(drawn, 3);
                var powerFactor = Math.Round(0.85 + 0.15 * random.NextDouble(), 3);
                var (from, to, lastGasp, backLow) = outage[m];
                if (t >= from && t < to && !(t == from && lastGasp)) continue;
                if (t >= from && t < to) (voltage, power) = (Math.Round(3 * faults.NextDouble(), 1), 0);
                else if (t == to && backLow) voltage = 150;
                tick.Add(new TelemetryReading
                {
                    MeterId = $"MTR-{m:D8}",
                    Timestamp = ts,
                    Voltage = voltage,
                    Current = voltage == 0 ? 0 : Math.Round(power * 1000 / voltage, 4),
                    PowerKw = power,
                    EnergyKwh = Math.Round(power * 10 / 3600, 6),
                    PowerFactor = powerFactor,
                    Frequency = 50,
                    Region = Regions[(m - 1) % Regions.Length],
                });
            }
            // Some neighbours in time swap places: late, but well within the allowed lateness.
            if (previousTickAt >= 0 && random.NextDouble() < 0.3 && tick.Count > 0)
            {
                var i = random.Next(tick.Count);
                if (previousTickAt + i < stream.Count)
                    (stream[previousTickAt + i], tick[i]) = (tick[i], stream[previousTickAt + i]);
            }
            previousTickAt = stream.Count;
            stream.AddRange(tick);
            sent.AddRange(tick);
            // A meter re-sends a reading it already sent (network retry).
            for (var d = 0; d < meters / 10 + 1; d++)
                stream.Add(sent[random.Next(Math.Max(0, sent.Count - 3 * meters), sent.Count)]);
            // A straggler from long ago, with a timestamp never seen before: too late to count.
            if (t > 60 && random.NextDouble() < 0.2 && tick.Count > 0)
            {
                var victim = tick[random.Next(tick.Count)];
                stream.Add(victim with { Timestamp = victim.Timestamp - TimeSpan.FromMinutes(8) + TimeSpan.FromMilliseconds(3) });
            }
        }
        return stream;
    }
}
