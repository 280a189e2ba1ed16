using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Integration.Tests.Pipeline;

/// <summary>
/// A stream as real meters produce it, with the faults the pipeline must absorb: re-sent
/// readings, readings swapped in time (late but within lateness), and stragglers far too late.
/// Seeded, so a failure reproduces.
/// </summary>
public static class ReadingScenario
{
    public static readonly string[] Regions = ["Mumbai-Central", "Mumbai-North", "Pune-West", "Nashik"];

    public static List<TelemetryReading> Generate(int meters, TimeSpan span, DateTimeOffset start, int seed)
    {
        var random = new Random(seed);
        var ticks = (int)(span / TimeSpan.FromSeconds(10));
        var stream = new List<TelemetryReading>();
        var sent = new List<TelemetryReading>();
        var previousTickAt = -1;
        for (var t = 0; t < ticks; t++)
        {
            var tick = new List<TelemetryReading>();
            for (var m = 1; m <= meters; m++)
            {
                var ts = start + TimeSpan.FromSeconds(10 * t) + TimeSpan.FromMilliseconds(m * 7);
                var power = Math.Round(0.5 + 4 * random.NextDouble(), 4);
                var drawn = 225 + 10 * random.NextDouble();
                // About 1 reading in 100 sags and 1 in 200 swells, from the draw itself so the rest of the scenario stays as it was.
                var voltage = drawn > 234.9 ? 190 + drawn - 234.9 : drawn < 225.05 ? 255 + drawn - 225 : Math.Round(drawn, 3);
                tick.Add(new TelemetryReading
                {
                    MeterId = $"MTR-{m:D8}",
                    Timestamp = ts,
                    Voltage = voltage,
                    Current = Math.Round(power * 1000 / voltage, 4),
                    PowerKw = power,
                    EnergyKwh = Math.Round(power * 10 / 3600, 6),
                    PowerFactor = Math.Round(0.85 + 0.15 * random.NextDouble(), 3),
                    Frequency = 50,
                    Region = Regions[(m - 1) % Regions.Length],
                });
            }
            // Some neighbours in time swap places: late, but well within the allowed lateness.
            if (previousTickAt >= 0 && random.NextDouble() < 0.3)
            {
                var i = random.Next(tick.Count);
                (stream[previousTickAt + i], tick[i]) = (tick[i], stream[previousTickAt + i]);
            }
            previousTickAt = stream.Count;
            stream.AddRange(tick);
            sent.AddRange(tick);
            // A meter re-sends a reading it already sent (network retry).
            for (var d = 0; d < meters / 10 + 1; d++)
                stream.Add(sent[random.Next(Math.Max(0, sent.Count - 3 * meters), sent.Count)]);
            // A straggler from long ago, with a timestamp never seen before: too late to count.
            if (t > 60 && random.NextDouble() < 0.2)
            {
                var victim = tick[random.Next(tick.Count)];
                stream.Add(victim with { Timestamp = victim.Timestamp - TimeSpan.FromMinutes(8) + TimeSpan.FromMilliseconds(3) });
            }
        }
        return stream;
    }
}
