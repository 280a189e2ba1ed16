namespace SmartGrid.Domain.Telemetry;

/// <summary>
/// The running statistics of one window as a plain value: what <see cref="WindowAggregate"/>
/// publishes, and what a meter keeps for each open window without a record, a meter id or a
/// dictionary entry around it. One home for the arithmetic, so a window kept compactly and one
/// published add the same doubles in the same order and agree to the last bit.
/// </summary>
internal record struct WindowSums
{
    // The counts first, side by side: no padding between the doubles.
    public int ReadingCount;
    public int PowerFactorCount;
    public int FrequencyCount;
    public double EnergyKwhSum;
    public double PowerKwSum;
    public double PowerKwMin;
    public double PowerKwMax;
    public double VoltageSum;
    /// <summary>Extremes for power quality (voltage_10m); 0 while the window is empty, like the power ones.</summary>
    public double VoltageMin;
    public double VoltageMax;
    public double CurrentSum;
    public double PowerFactorSum;
    public double FrequencySum;

    /// <summary>
    /// One more reading: merging the reading as a window of its own adds exactly the same doubles
    /// (an absent optional value adds 0, which leaves a sum unchanged).
    /// </summary>
    public void Add(TelemetryReading reading) => Merge(new WindowSums
    {
        ReadingCount = 1,
        PowerFactorCount = reading.PowerFactor is null ? 0 : 1,
        FrequencyCount = reading.Frequency is null ? 0 : 1,
        EnergyKwhSum = reading.EnergyKwh,
        PowerKwSum = reading.PowerKw,
        PowerKwMin = reading.PowerKw,
        PowerKwMax = reading.PowerKw,
        VoltageSum = reading.Voltage,
        VoltageMin = reading.Voltage,
        VoltageMax = reading.Voltage,
        CurrentSum = reading.Current,
        PowerFactorSum = reading.PowerFactor ?? 0,
        FrequencySum = reading.Frequency ?? 0,
    });

    public void Merge(in WindowSums other)
    {
        if (other.ReadingCount == 0)
        {
            return;
        }

        bool first = ReadingCount == 0;
        ReadingCount += other.ReadingCount;
        EnergyKwhSum += other.EnergyKwhSum;
        PowerKwSum += other.PowerKwSum;
        PowerKwMin = first ? other.PowerKwMin : Math.Min(PowerKwMin, other.PowerKwMin);
        PowerKwMax = first ? other.PowerKwMax : Math.Max(PowerKwMax, other.PowerKwMax);
        VoltageSum += other.VoltageSum;
        VoltageMin = first ? other.VoltageMin : Math.Min(VoltageMin, other.VoltageMin);
        VoltageMax = first ? other.VoltageMax : Math.Max(VoltageMax, other.VoltageMax);
        CurrentSum += other.CurrentSum;
        PowerFactorSum += other.PowerFactorSum;
        PowerFactorCount += other.PowerFactorCount;
        FrequencySum += other.FrequencySum;
        FrequencyCount += other.FrequencyCount;
    }
}
