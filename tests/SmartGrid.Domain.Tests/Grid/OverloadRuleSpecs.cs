using System.Text.Json;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Domain.Tests.Grid;

public class OverloadRuleSpecs
{
    private static readonly DateTimeOffset Ten = new(2024, 1, 15, 10, 0, 0, TimeSpan.Zero);
    private readonly OverloadRule _rule = new();

    private OverloadEvaluation Run(params (int Minute, double Load)[] windows)
    {
        OverloadEvaluation? last = null;
        OverloadState state = OverloadState.Empty;
        foreach ((int minute, double load) in windows)
        {
            last = _rule.Evaluate(state, Ten.AddMinutes(minute), load);
            state = last.State;
        }

        return last!;
    }

    [Fact]
    public void Should_declare_overload_at_the_third_window_above_threshold_within_the_span()
    {
        OverloadState state = OverloadState.Empty;
        var verdicts = new List<OverloadEvaluation>();
        foreach ((int minute, double load) in new[] { (0, 90.0), (1, 50.0), (7, 86.0), (20, 99.0), (21, 95.0) })
        {
            OverloadEvaluation evaluation = _rule.Evaluate(state, Ten.AddMinutes(minute), load);
            verdicts.Add(evaluation);
            state = evaluation.State;
        }

        Assert.Equal([false, false, false, true, true], verdicts.Select(v => v.IsOverloaded));
        Assert.Equal([false, false, false, true, false], verdicts.Select(v => v.BecameOverloaded));
        Assert.Equal(4, verdicts[^1].OverloadWindowCount);
    }

    [Theory]
    [InlineData(85.0, false)] // "> 85 %": exactly 85 is not an overload window
    [InlineData(85.01, true)]
    public void Should_count_only_load_strictly_above_the_threshold(double load, bool overloaded)
    {
        Assert.Equal(overloaded, Run((0, load), (1, load), (2, load)).IsOverloaded);
    }

    [Fact]
    public void Should_count_the_same_window_once_however_often_it_arrives()
    {
        OverloadEvaluation evaluation = Run((0, 90), (0, 90), (0, 91), (1, 90));

        Assert.False(evaluation.IsOverloaded);
        Assert.Equal(2, evaluation.OverloadWindowCount);
        Assert.Equal([Ten, Ten.AddMinutes(1)], evaluation.State.OverloadWindowStarts);
    }

    [Fact]
    public void Should_let_a_corrected_window_replace_its_earlier_verdict()
    {
        OverloadEvaluation evaluation = Run((0, 90), (1, 90), (2, 90), (1, 70));

        Assert.False(evaluation.IsOverloaded);
        Assert.Equal([Ten, Ten.AddMinutes(2)], evaluation.State.OverloadWindowStarts);
    }

    [Fact]
    public void Should_prune_windows_older_than_the_span_before_the_newest_window()
    {
        // 10:00 is exactly 30 minutes before 10:30: out of the span (the 30 windows 10:01..10:30).
        Assert.False(Run((0, 90), (10, 90), (30, 90)).IsOverloaded);
        Assert.True(Run((1, 90), (10, 90), (30, 90)).IsOverloaded);
    }

    [Fact]
    public void Should_prune_on_any_newer_window_even_one_below_threshold()
    {
        OverloadEvaluation evaluation = Run((0, 90), (5, 90), (10, 90), (35, 40));

        Assert.False(evaluation.IsOverloaded);
        Assert.True(evaluation.WasOverloaded);
        Assert.Equal([Ten.AddMinutes(10)], evaluation.State.OverloadWindowStarts);
        Assert.Equal(Ten.AddMinutes(35), evaluation.State.NewestWindowStart);
    }

    [Fact]
    public void Should_count_a_late_window_inside_the_span_and_ignore_one_outside()
    {
        Assert.True(Run((20, 90), (25, 90), (10, 90)).IsOverloaded);

        OverloadEvaluation late = Run((40, 90), (45, 90), (10, 90));
        Assert.False(late.IsOverloaded);
        Assert.Equal(Ten.AddMinutes(45), late.State.NewestWindowStart); // time never runs backwards
        Assert.Equal(2, late.OverloadWindowCount);
    }

    [Fact]
    public void Should_use_configured_threshold_count_and_span()
    {
        var rule = new OverloadRule(new OverloadRuleOptions { ThresholdPercent = 70, WindowsRequired = 2, Span = TimeSpan.FromMinutes(5) });
        OverloadEvaluation first = rule.Evaluate(OverloadState.Empty, Ten, 75);

        Assert.True(rule.Evaluate(first.State, Ten.AddMinutes(4), 75).IsOverloaded);
        Assert.False(rule.Evaluate(first.State, Ten.AddMinutes(5), 75).IsOverloaded);
        Assert.Throws<ArgumentException>(() => new OverloadRule(new OverloadRuleOptions { WindowsRequired = 0 }));
    }

    [Fact]
    public void Should_evaluate_a_regional_aggregate_by_its_start_and_load()
    {
        var window = new RegionalAggregate
        {
            Region = "Nashik",
            Size = WindowSize.OneMinute,
            WindowStart = Ten,
            MeterCount = 1,
            TotalPowerKw = 2400,
            EnergyKwhSum = 40,
            ReadingCount = 6,
            CapacityKw = 2500,
            LoadPercent = 96,
        };

        OverloadEvaluation evaluation = _rule.Evaluate(OverloadState.Empty, window);

        Assert.Equal([Ten], evaluation.State.OverloadWindowStarts);
    }

    [Fact]
    public void Should_survive_a_json_round_trip_unchanged()
    {
        OverloadState state = Run((0, 90), (3, 90), (4, 20)).State;

        OverloadState? back = JsonSerializer.Deserialize<OverloadState>(JsonSerializer.Serialize(state));

        Assert.Equal(state, back);
        Assert.Equal(state.GetHashCode(), back!.GetHashCode());
    }
}
