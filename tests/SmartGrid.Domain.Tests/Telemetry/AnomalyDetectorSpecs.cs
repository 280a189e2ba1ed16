using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;
using static SmartGrid.Domain.Tests.TestData;

namespace SmartGrid.Domain.Tests.Telemetry;

public class AnomalyDetectorSpecs
{
    private static readonly DateTimeOffset Start = new(2024, 1, 15, 14, 30, 0, TimeSpan.Zero);
    private readonly AnomalyDetector _detector = new();

    private Anomaly? Detect(double actualKw, double? baselineKw = 100) =>
        _detector.Detect("MTR-00000001", "Pune-West", Start, actualKw, baselineKw);

    // Learned at this hour on the same weekday of the ten weeks before: ten days back would cross a weekend, whose
    // slots are the baseline's other day type.
    private static MeterBaseline Established(double kw) =>
        Enumerable.Range(0, 10).Aggregate(new MeterBaseline(), (b, i) => b.Observe(Start.AddDays(-7 * (i + 1)), kw));

    [Theory]
    [InlineData(200.0)] // exactly +100 %: not more than
    [InlineData(150.0)]
    [InlineData(100.0)]
    [InlineData(60.0)]
    [InlineData(50.0)] // exactly -50 %: not more than
    public void Should_not_flag_power_within_the_thresholds(double actualKw)
    {
        Assert.Null(Detect(actualKw));
    }

    [Theory]
    [InlineData(201.0, Severity.Low)]
    [InlineData(250.0, Severity.Low)] // +150 %
    [InlineData(251.0, Severity.Medium)]
    [InlineData(300.0, Severity.Medium)] // +200 %
    [InlineData(301.0, Severity.High)]
    [InlineData(400.0, Severity.High)] // +300 %
    [InlineData(401.0, Severity.Critical)]
    [InlineData(5000.0, Severity.Critical)]
    public void Should_flag_a_spike_with_severity_by_deviation(double actualKw, Severity severity)
    {
        Anomaly anomaly = Assert.IsType<Anomaly>(Detect(actualKw));

        Assert.Equal(AnomalyKind.Spike, anomaly.Kind);
        Assert.Equal(severity, anomaly.Severity);
        Assert.Equal(actualKw - 100, anomaly.DeviationPercent);
    }

    [Theory]
    [InlineData(49.0, Severity.Low)]
    [InlineData(35.0, Severity.Low)] // -65 %
    [InlineData(34.0, Severity.Medium)]
    [InlineData(20.0, Severity.Medium)] // -80 %
    [InlineData(19.0, Severity.High)]
    [InlineData(5.0, Severity.High)] // -95 %
    [InlineData(4.0, Severity.Critical)]
    [InlineData(0.0, Severity.Critical)] // nothing at all: outage-like
    public void Should_flag_a_drop_with_severity_by_deviation(double actualKw, Severity severity)
    {
        Anomaly anomaly = Assert.IsType<Anomaly>(Detect(actualKw));

        Assert.Equal(AnomalyKind.Drop, anomaly.Kind);
        Assert.Equal(severity, anomaly.Severity);
        Assert.Equal(actualKw - 100, anomaly.DeviationPercent);
    }

    [Fact]
    public void Should_stay_silent_until_the_baseline_is_established()
    {
        Assert.Null(Detect(1000, baselineKw: null));
        Anomaly? anomaly = _detector.Detect(WindowAggregate.Of(Reading(Start, powerKw: 10), WindowSize.OneMinute), new MeterBaseline(), 230);
        Assert.Null(anomaly);
    }

    [Fact]
    public void Should_ignore_a_baseline_too_small_to_judge_against()
    {
        Assert.Null(Detect(5, baselineKw: 0.049));
        Assert.Null(Detect(0, baselineKw: 0));
        Assert.NotNull(Detect(5, baselineKw: 0.05));
    }

    [Fact]
    public void Should_compare_a_window_average_with_the_baseline_at_the_window_start()
    {
        WindowAggregate window = WindowAggregate.Of(Reading(Start, powerKw: 3, region: "Nashik"), WindowSize.OneMinute)
            .Add(Reading(Start.AddSeconds(10), powerKw: 5, region: "Nashik"));

        Anomaly anomaly = Assert.IsType<Anomaly>(_detector.Detect(window, Established(1.0), 230));

        Assert.Equal(
            new Anomaly
            {
                MeterId = "MTR-00000001",
                Region = "Nashik",
                Kind = AnomalyKind.Spike,
                Timestamp = Start,
                BaselineKw = 1.0,
                ActualKw = 4.0,
                DeviationPercent = 300,
                Severity = Severity.High,
            },
            anomaly);
    }

    [Fact]
    public void Should_not_call_a_window_of_the_meters_last_gasp_a_drop()
    {
        // An outage's first minute: one reading at 2 V and 0 kW (under 5 % of 230 V = 11.5 V), then silence.
        WindowAggregate gasp = WindowAggregate.Of(Reading(Start, powerKw: 0, voltage: 2, current: 0), WindowSize.OneMinute);
        // The same draw with the supply there is a -100 % drop, critical.
        WindowAggregate emptyHouse = WindowAggregate.Of(Reading(Start, powerKw: 0, voltage: 229, current: 0), WindowSize.OneMinute);
        // 11.4 V against 11.5 V: still the supply gone; 11.6 V is a supply there (low), judged as consumption.
        WindowAggregate justUnder = WindowAggregate.Of(Reading(Start, powerKw: 0, voltage: 11.4, current: 0), WindowSize.OneMinute);
        WindowAggregate justOver = WindowAggregate.Of(Reading(Start, powerKw: 0, voltage: 11.6, current: 0), WindowSize.OneMinute);

        Assert.Null(_detector.Detect(gasp, Established(1.0), 230));
        Assert.Null(_detector.Detect(justUnder, Established(1.0), 230));
        Assert.Equal(Severity.Critical, _detector.Detect(emptyHouse, Established(1.0), 230)?.Severity);
        Assert.Equal(AnomalyKind.Drop, _detector.Detect(justOver, Established(1.0), 230)?.Kind);
    }

    [Fact]
    public void Should_check_a_single_reading_at_its_own_time()
    {
        Anomaly anomaly = Assert.IsType<Anomaly>(_detector.Detect(Reading(Start.AddSeconds(20), powerKw: 0.25, region: null), Established(2.0)));

        Assert.Equal(AnomalyKind.Drop, anomaly.Kind);
        Assert.Equal(Start.AddSeconds(20), anomaly.Timestamp);
        Assert.Equal(Regions.Unassigned, anomaly.Region);
        Assert.Equal(-87.5, anomaly.DeviationPercent);
        Assert.Equal(Severity.High, anomaly.Severity);
    }

    [Fact]
    public void Should_use_configured_thresholds()
    {
        var detector = new AnomalyDetector(new AnomalyDetectionOptions { SpikeThresholdPercent = 50, MinBaselineKw = 1 });

        Assert.Equal(Severity.Low, detector.Detect("MTR-00000001", "Nashik", Start, 160, 100)?.Severity);
        Assert.Null(detector.Detect("MTR-00000001", "Nashik", Start, 10, 0.9));
        Assert.Throws<ArgumentException>(() => new AnomalyDetector(new AnomalyDetectionOptions { SpikeHighAbovePercent = 120 }));
    }

    [Fact]
    public void Should_express_deviation_exactly_for_round_numbers()
    {
        Assert.Equal(-65, AnomalyDetector.DeviationPercent(35, 100));
        Assert.Equal(150, AnomalyDetector.DeviationPercent(2.5, 1));
        Assert.Equal(Severity.Critical, _detector.SeverityOf(AnomalyKind.Drop, 95.0001));
        Assert.Equal(Severity.Medium, _detector.SeverityOf(AnomalyKind.Spike, 150.0001));
    }
}
