using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Domain.Grid;

/// <summary>
/// A grid region: the capacity its load percentage is measured against, its nominal voltage and
/// the time zone its operators work in. The name is the region's identity, unique regardless of case.
/// </summary>
public sealed record RegionSpec(string Name, double CapacityKw)
{
    public double NominalVoltage { get; init; } = Regions.DefaultNominalVoltage;
    public string TimeZone { get; init; } = Regions.DefaultTimeZone;
}

public static class Regions
{
    /// <summary>Used when a reading names no region and its meter has none registered.</summary>
    public const string Unassigned = "Unassigned";

    public const double DefaultNominalVoltage = 230;
    public const string DefaultTimeZone = "Asia/Kolkata";
    public const int NameMaxLength = 64;

    /// <summary>The default four regions of the simulator and the development setup.</summary>
    public static readonly IReadOnlyList<RegionSpec> Defaults =
    [
        new("Mumbai-Central", 4_000),
        new("Mumbai-North", 3_500),
        new("Pune-West", 3_000),
        new("Nashik", 2_500),
    ];

    public const string NameRule = "1-64 letters, digits, spaces, '-', '_' or '.', starting with a letter or digit";

    /// <summary>
    /// What is wrong with <paramref name="region"/> as an operator's region, one error per field
    /// (name, capacity_kw, nominal_voltage, time_zone); empty when it is fine. Names are limited to
    /// a plain alphabet because they end up in Redis keys, log lines and URLs.
    /// </summary>
    public static IReadOnlyList<FieldError> Check(RegionSpec region)
    {
        var errors = new List<FieldError>();
        if (!IsValidName(region.Name))
            errors.Add(new("name", NameRule));
        if (!(region.CapacityKw > 0) || double.IsInfinity(region.CapacityKw))
            errors.Add(new("capacity_kw", "must be a positive number of kW"));
        if (!(region.NominalVoltage > 0) || double.IsInfinity(region.NominalVoltage))
            errors.Add(new("nominal_voltage", "must be a positive number of volts"));
        if (string.IsNullOrWhiteSpace(region.TimeZone) || !TimeZoneInfo.TryFindSystemTimeZoneById(region.TimeZone, out _))
            errors.Add(new("time_zone", "must be an IANA time zone such as Asia/Kolkata"));
        return errors;
    }

    public static bool IsValidName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > NameMaxLength || !char.IsAsciiLetterOrDigit(name[0]))
            return false;
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not (' ' or '-' or '_' or '.'))
                return false;
        }
        return name[^1] != ' ';
    }
}
