using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Domain.Tests.Telemetry;

/// <summary>How a meter's baseline learns from its windows, as MeterState feeds it: the echo of a fault and the start of each hour.</summary>
public class BaselineLearningSpecs
{
    private static readonly DateTimeOffset Ten = new(2024, 1, 15, 10, 0, 0, TimeSpan.Zero);
    private readonly AnomalyDetector _detector = new();

    /// <summary>Detects, then learns, one window a minute from <paramref name="from"/>, as MeterState does; returns the anomalies' kinds.</summary>
    private (MeterBaseline Baseline, List<AnomalyKind?> Kinds) Run(MeterBaseline baseline, DateTimeOffset from, params double[] powerKw)
    {
        var kinds = new List<AnomalyKind?>();
        for (var i = 0; i < powerKw.Length; i++)
        {
            var at = from.AddMinutes(i);
            kinds.Add(_detector.Detect("MTR-00000001", "Nashik", at, powerKw[i], baseline.Reference(at))?.Kind);
            baseline = baseline.Observe(at, _detector.Learnable(powerKw[i], baseline.Reference(at)));
        }

        return (baseline, kinds);
    }

    [Fact]
    public void Should_not_see_the_meters_normal_draw_after_a_spike_as_a_drop()
    {
        var (established, _) = Run(MeterBaseline.Create(), Ten, Enumerable.Repeat(1.0, 20).ToArray());

        var (_, kinds) = Run(established, Ten.AddMinutes(20), 3.6, 3.6, 3.6, 3.6, 3.6, 1.0, 1.0, 1.0);

        Assert.Equal([AnomalyKind.Spike, AnomalyKind.Spike, AnomalyKind.Spike, AnomalyKind.Spike, AnomalyKind.Spike, null, null, null], kinds);
    }

    [Fact]
    public void Should_still_learn_a_lasting_change_of_level()
    {
        var (established, _) = Run(MeterBaseline.Create(), Ten, Enumerable.Repeat(1.0, 20).ToArray());

        var (_, kinds) = Run(established, Ten.AddMinutes(20), Enumerable.Repeat(2.5, 30).ToArray());

        Assert.Equal(AnomalyKind.Spike, kinds[0]);
        Assert.All(kinds.Skip(15), k => Assert.Null(k));
    }

    [Fact]
    public void Should_judge_the_first_minutes_of_an_hour_against_the_hour_before()
    {
        var (established, _) = Run(MeterBaseline.Create(), Ten.AddMinutes(30), Enumerable.Repeat(1.0, 30).ToArray());

        Assert.Null(established.Expected(Ten.AddHours(1)));
        Assert.Equal(1.0, established.Reference(Ten.AddHours(1).AddMinutes(2)));
        var (_, kinds) = Run(established, Ten.AddHours(1), 1.0, 3.6, 0.2);
        Assert.Equal([null, AnomalyKind.Spike, AnomalyKind.Drop], kinds);
    }
}
