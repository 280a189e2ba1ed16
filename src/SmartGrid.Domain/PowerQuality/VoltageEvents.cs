using System.Text.Json.Serialization;

namespace SmartGrid.Domain.PowerQuality;

/// <summary>The kinds of voltage event (EN 50160): below 90 % of nominal, above 110 %, below 5 %.</summary>
public enum VoltageEventKind
{
    [JsonStringEnumMemberName("sag")] Sag = 1,
    [JsonStringEnumMemberName("swell")] Swell = 2,
    [JsonStringEnumMemberName("interruption")] Interruption = 3,
}

/// <summary>
/// A run of consecutive readings outside 90–110 % of nominal. It starts at its first reading and
/// ends at the first reading back inside the band (<see cref="End"/> null while it lasts). A low
/// run is an interruption when its lowest reading is below 5 % of nominal, else a sag, so the kind
/// of a low run can deepen from sag to interruption while it lasts; (meter, start) is its identity.
/// </summary>
public sealed record VoltageEvent(
    [property: JsonPropertyName("meter_id")] string MeterId,
    [property: JsonPropertyName("region")] string Region,
    [property: JsonPropertyName("kind")] VoltageEventKind Kind,
    [property: JsonPropertyName("start")] DateTimeOffset Start,
    [property: JsonPropertyName("end")] DateTimeOffset? End,
    [property: JsonPropertyName("extreme_voltage")] double ExtremeVoltage,
    [property: JsonPropertyName("nominal_voltage")] double NominalVoltage);

/// <summary>The EN 50160 / ANSI C84.1 bands as shares of the nominal voltage.</summary>
public static class VoltageBands
{
    public const double SagBelow = 0.90;
    public const double SwellAbove = 1.10;
    public const double InterruptionBelow = 0.05;

    /// <summary>EN 50160: 10-minute means within ±10 %.</summary>
    public const double Band = 0.10;

    /// <summary>ANSI C84.1 range A: within ±5 %.</summary>
    public const double RangeA = 0.05;

    /// <summary>EN 50160 also bounds every 10-minute mean to −15 % / +10 %.</summary>
    public const double MeanFloor = 0.85;

    public const double MeanCeiling = 1.10;

    /// <summary>EN 50160: at least 95 % of the 10-minute means within <see cref="Band"/>.</summary>
    public const double CompliantShare = 0.95;

    /// <summary>-1 below the band, +1 above it, 0 inside 90–110 % (bounds included).</summary>
    public static int Side(double voltage, double nominal) =>
        voltage < SagBelow * nominal ? -1 : voltage > SwellAbove * nominal ? 1 : 0;

    public static VoltageEventKind LowKind(double lowest, double nominal) =>
        lowest < InterruptionBelow * nominal ? VoltageEventKind.Interruption : VoltageEventKind.Sag;
}

/// <summary>
/// A meter's open voltage run, kept in its state: which side of the band, since when, and the
/// extreme so far (24 bytes, against the hundreds the windows take).
/// </summary>
internal struct VoltageRun
{
    /// <summary>-1 low, +1 high, 0 no run.</summary>
    public sbyte Side;
    public long StartTicks;
    public double Extreme;

    public readonly bool Open => Side != 0;

    /// <summary>
    /// One more reading, the meter's newest. Adds to <paramref name="observed"/> (created on need) the
    /// run it ends and the one it starts, and a low run the moment it turns from sag to interruption; a
    /// reading that crosses from one side straight to the other does both, and the new run starts at that reading.
    /// </summary>
    public void Observe(string meterId, string region, long ticks, double voltage, double nominal, ref List<VoltageEvent>? observed)
    {
        var side = VoltageBands.Side(voltage, nominal);
        if (Open && side == Side)
        {
            var sagBefore = Side < 0 && VoltageBands.LowKind(Extreme, nominal) == VoltageEventKind.Sag;
            Extreme = Side < 0 ? Math.Min(Extreme, voltage) : Math.Max(Extreme, voltage);
            // A sag that deepens into an interruption is told at once: a supply that fails mid-sag (its last gasp)
            // may never send the reading that ends the run, and the open event would stay a sag.
            if (sagBefore && VoltageBands.LowKind(Extreme, nominal) == VoltageEventKind.Interruption)
                (observed ??= []).Add(ToEvent(meterId, region, nominal, end: null));
            return;
        }
        if (Open)
            (observed ??= []).Add(ToEvent(meterId, region, nominal, new DateTimeOffset(ticks, TimeSpan.Zero)));
        this = side == 0 ? default : new VoltageRun { Side = (sbyte)side, StartTicks = ticks, Extreme = voltage };
        if (Open)
            (observed ??= []).Add(ToEvent(meterId, region, nominal, end: null));
    }

    public readonly VoltageEvent ToEvent(string meterId, string region, double nominal, DateTimeOffset? end) => new(
        meterId, region, Side < 0 ? VoltageBands.LowKind(Extreme, nominal) : VoltageEventKind.Swell,
        new DateTimeOffset(StartTicks, TimeSpan.Zero), end, Extreme, nominal);
}

/// <summary>The 10-minute voltage window of EN 50160 (floor to 10 minutes, UTC) and the events' wire names.</summary>
public static class VoltageWindow
{
    public static readonly TimeSpan Length = TimeSpan.FromMinutes(10);

    public static DateTimeOffset Floor(DateTimeOffset t)
    {
        var ticks = t.UtcTicks;
        return new DateTimeOffset(ticks - ticks % Length.Ticks, TimeSpan.Zero);
    }

    public static string WireName(VoltageEventKind kind) => Domain.WireName.Of(kind);

    public static VoltageEventKind ParseKind(string name) => Domain.WireName.Parse<VoltageEventKind>(name);
}
