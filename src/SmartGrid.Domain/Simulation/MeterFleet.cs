using System.Text.Json.Serialization;
using SmartGrid.Domain.Grid;

namespace SmartGrid.Domain.Simulation;

[JsonConverter(typeof(JsonStringEnumConverter<CustomerType>))]
public enum CustomerType
{
    /// <summary>Homes: morning and evening peaks.</summary>
    [JsonStringEnumMemberName("residential")] Residential = 1,

    /// <summary>Shops and offices: office hours, quiet at night and on weekends.</summary>
    [JsonStringEnumMemberName("commercial")] Commercial = 2,

    /// <summary>Plants: a high, flat-ish load around the clock.</summary>
    [JsonStringEnumMemberName("industrial")] Industrial = 3,
}

/// <summary>
/// Settings of the simulated fleet. The defaults give the seed's 5,000 meters every 10 s
/// and a load that climbs, in the evening, from about 55 % of capacity in the largest region
/// to about 90 % in the smallest, so tariffs move and overloads happen without tuning.
/// </summary>
public sealed record SimulationOptions
{
    public long Seed { get; init; } = 1;
    public int MeterCount { get; init; } = 5_000;
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Meters are dealt round-robin over these regions.</summary>
    public IReadOnlyList<RegionSpec> Regions { get; init; } = Grid.Regions.Defaults;

    /// <summary>Local time of the customers, which drives the daily curves (default India Standard Time).</summary>
    public TimeSpan LocalOffset { get; init; } = new(5, 30, 0);

    public double ResidentialShare { get; init; } = 0.85;
    public double CommercialShare { get; init; } = 0.12;

    public double NominalVoltage { get; init; } = 230;

    /// <summary>Largest deviation of a reading's voltage from nominal, in percent.</summary>
    public double VoltageSpreadPercent { get; init; } = 3;

    public double NominalFrequency { get; init; } = 50;

    /// <summary>Largest deviation of a reading's frequency from nominal, in hertz.</summary>
    public double FrequencySpreadHz { get; init; } = 0.05;

    /// <summary>Largest random deviation of a reading's power from the meter's curve, in percent.</summary>
    public double NoisePercent { get; init; } = 15;

    /// <summary>Expected spike episodes per meter per day (power × 2.2 to × 5 for the episode).</summary>
    public double SpikesPerMeterPerDay { get; init; } = 0.2;
    public TimeSpan SpikeDuration { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Expected drop episodes per meter per day (power × 0.02 to × 0.45 for the episode).</summary>
    public double DropsPerMeterPerDay { get; init; } = 0.2;
    public TimeSpan DropDuration { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Expected outages per meter per day; during one the meter sends nothing but, at its first tick, its last gasp.</summary>
    public double OutagesPerMeterPerDay { get; init; } = 0.05;
    public TimeSpan OutageDuration { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Share of outages whose meter sends a last gasp (0–3 V, no power) at the outage's first tick; the rest just fall silent.</summary>
    public double LastGaspShare { get; init; } = 0.8;

    /// <summary>Expected voltage sags per meter per day (60–88 % of nominal for the episode).</summary>
    public double SagsPerMeterPerDay { get; init; } = 0.5;
    public TimeSpan SagDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Expected voltage swells per meter per day (111–118 % of nominal for the episode).</summary>
    public double SwellsPerMeterPerDay { get; init; } = 0.2;
    public TimeSpan SwellDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Expected voltage drifts per meter per day: a lasting offset of −6 to −12 % or +6 to +10 % (a tap changer stuck, a long feeder).</summary>
    public double DriftsPerMeterPerDay { get; init; } = 0.1;
    public TimeSpan DriftDuration { get; init; } = TimeSpan.FromHours(2);
}

/// <summary>
/// One simulated meter. Its traits are drawn once from the seed, so the same seed always
/// builds the same fleet.
/// </summary>
/// <param name="Index">1-based; the number in the meter id.</param>
/// <param name="PeakKw">Power at the top of the customer type's daily curve.</param>
/// <param name="PowerFactor">Typical power factor of the meter's load.</param>
/// <param name="VoltageOffsetPercent">Where the meter sits on its feeder: a lasting offset from nominal voltage.</param>
/// <param name="CurveShift">How much earlier or later than the average this customer lives.</param>
public sealed record SimulatedMeter(
    int Index,
    string MeterId,
    string UserId,
    string Region,
    CustomerType CustomerType,
    double PeakKw,
    double PowerFactor,
    double VoltageOffsetPercent,
    TimeSpan CurveShift);

/// <summary>The deterministic population of simulated meters: MTR-00000001 … owned by user-00000001 ….</summary>
public sealed class MeterFleet
{
    private const ulong TraitsSalt = 0x7472616974; // "trait"

    private readonly Dictionary<string, SimulatedMeter> _byId;

    private MeterFleet(SimulationOptions options, SimulatedMeter[] meters)
    {
        Options = options;
        Meters = meters;
        _byId = meters.ToDictionary(m => m.MeterId, StringComparer.Ordinal);
    }

    public SimulationOptions Options { get; }
    public IReadOnlyList<SimulatedMeter> Meters { get; }

    public static string MeterIdOf(int index) => $"MTR-{index:D8}";
    public static string UserIdOf(int index) => $"user-{index:D8}";

    public SimulatedMeter? Find(string meterId) => _byId.GetValueOrDefault(meterId);

    public static MeterFleet Create(SimulationOptions? options = null)
    {
        options ??= new SimulationOptions();
        Validate(options);

        var meters = new SimulatedMeter[options.MeterCount];
        double voltageLasting = options.VoltageSpreadPercent * 2.0 / 3.0;
        for (int i = 0; i < meters.Length; i++)
        {
            int index = i + 1;
            var random = DeterministicRandom.For(options.Seed, index, 0, TraitsSalt);
            double kind = random.NextDouble();
            CustomerType type = kind < options.ResidentialShare ? CustomerType.Residential
                : kind < options.ResidentialShare + options.CommercialShare ? CustomerType.Commercial
                : CustomerType.Industrial;
            (double peakLow, double peakHigh, double pfLow, double pfHigh) = type switch
            {
                CustomerType.Residential => (0.8, 2.4, 0.92, 0.99),
                CustomerType.Commercial => (2.0, 6.0, 0.88, 0.97),
                _ => (8.0, 24.0, 0.85, 0.95),
            };

            meters[i] = new SimulatedMeter(
                index,
                MeterIdOf(index),
                UserIdOf(index),
                // Round-robin gives every region the same number of meters; their different
                // capacities then give them different load levels.
                options.Regions[i % options.Regions.Count].Name,
                type,
                PeakKw: random.Next(peakLow, peakHigh),
                PowerFactor: random.Next(pfLow, pfHigh),
                VoltageOffsetPercent: random.Next(-voltageLasting, voltageLasting),
                CurveShift: TimeSpan.FromMinutes(random.Next(-40, 40)));
        }

        return new MeterFleet(options, meters);
    }

    private static void Validate(SimulationOptions options)
    {
        void Require(bool condition, string message)
        {
            if (!condition)
            {
                throw new ArgumentException(message, nameof(options));
            }
        }

        Require(options.MeterCount is >= 1 and <= 99_999_999, "MeterCount must be 1 to 99,999,999 (eight-digit meter ids)");
        Require(options.Interval >= TimeSpan.FromSeconds(1) && options.Interval <= TimeSpan.FromHours(1), "Interval must be 1 s to 1 h");
        Require(options.Regions is { Count: > 0 } && options.Regions.All(r => !string.IsNullOrWhiteSpace(r.Name)), "at least one named region is needed");
        Require(options.ResidentialShare >= 0 && options.CommercialShare >= 0 && options.ResidentialShare + options.CommercialShare <= 1,
            "customer shares must be non-negative and add up to at most 1");
        Require(options.LocalOffset > TimeSpan.FromHours(-24) && options.LocalOffset < TimeSpan.FromHours(24), "LocalOffset must be within a day");
        Require(options.NominalVoltage > 0 && options.VoltageSpreadPercent is >= 0 and < 100, "voltage must be positive with a spread under 100 %");
        Require(options.NominalFrequency > 0 && options.FrequencySpreadHz >= 0 && options.FrequencySpreadHz < options.NominalFrequency, "invalid frequency settings");
        Require(options.NoisePercent is >= 0 and < 100, "NoisePercent must be 0 to under 100");
        Require(options.SpikesPerMeterPerDay >= 0 && options.DropsPerMeterPerDay >= 0 && options.OutagesPerMeterPerDay >= 0
                && options.SagsPerMeterPerDay >= 0 && options.SwellsPerMeterPerDay >= 0 && options.DriftsPerMeterPerDay >= 0, "rates must not be negative");
        Require(options.SpikeDuration > TimeSpan.Zero && options.DropDuration > TimeSpan.Zero && options.OutageDuration > TimeSpan.Zero
                && options.SagDuration > TimeSpan.Zero && options.SwellDuration > TimeSpan.Zero && options.DriftDuration > TimeSpan.Zero,
            "episode durations must be positive");
        Require(options.LastGaspShare is >= 0 and <= 1, "LastGaspShare must be 0 to 1");
    }
}
