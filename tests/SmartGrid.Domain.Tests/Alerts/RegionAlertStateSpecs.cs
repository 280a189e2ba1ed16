using System.Text.Json;
using System.Text.Json.Nodes;
using SmartGrid.Domain.Alerts;
using SmartGrid.Domain.Grid;

namespace SmartGrid.Domain.Tests.Alerts;

public class RegionAlertStateSpecs
{
    private static readonly DateTimeOffset Ten = new(2024, 1, 15, 10, 0, 0, TimeSpan.Zero);
    private static readonly RegionAlertPolicy Policy = new(new OverloadRule(), CriticalLoadPercent: 100, ClearPercent: 80, ClearWindows: 3);

    private static RegionLoadObserved Load(int minute, double load, int revision = 1) =>
        new("Nashik", Ten.AddMinutes(minute), Ten.AddMinutes(minute + 1), load, revision);

    /// <summary>Decides and applies each load in turn, as the AlertManager does, and returns every event.</summary>
    private static (RegionAlertState State, List<IRegionAlertEvent> Events) Run(RegionAlertState state, params RegionLoadObserved[] loads)
    {
        var all = new List<IRegionAlertEvent>();
        foreach (var load in loads)
        {
            var events = state.Decide(load, Policy);
            all.AddRange(events);
            state = events.Aggregate(state, (s, e) => s.Apply(e, Policy));
        }

        return (state, all);
    }

    [Fact]
    public void Should_raise_at_the_third_overload_window_within_the_span_and_count_each_later_one()
    {
        var (_, events) = Run(RegionAlertState.Empty, Load(0, 90), Load(1, 50), Load(7, 86), Load(20, 99), Load(21, 120));

        var raised = events.OfType<OverloadRaised>().ToList();
        Assert.Equal([Ten.AddMinutes(20), Ten.AddMinutes(21)], raised.Select(r => r.WindowStart));
        Assert.Equal([3, 4], raised.Select(r => r.OverloadWindows));
        Assert.Equal([Severity.High, Severity.Critical], raised.Select(r => r.Severity));
    }

    [Fact]
    public void Should_decide_nothing_for_a_revision_already_applied_and_recount_nothing_for_a_newer_one()
    {
        var (state, _) = Run(RegionAlertState.Empty, Load(0, 90), Load(1, 91), Load(2, 92));

        Assert.Empty(state.Decide(Load(2, 92), Policy));
        Assert.Empty(state.Decide(Load(1, 99, revision: 1), Policy));
        var newer = state.Decide(Load(2, 95, revision: 2), Policy);
        Assert.Equal([typeof(RegionLoadRecorded)], newer.Select(e => e.GetType()));
    }

    [Fact]
    public void Should_clear_only_after_three_consecutive_windows_under_eighty_percent()
    {
        var (overloaded, _) = Run(RegionAlertState.Empty, Load(0, 90), Load(1, 91), Load(2, 92));

        // 84 % is under the raise threshold but above the clear one: the overload continues.
        var (_, hovering) = Run(overloaded, Load(3, 84), Load(4, 79), Load(5, 82), Load(6, 79), Load(7, 78));
        var (state, cleared) = Run(overloaded, Load(3, 84), Load(4, 79), Load(5, 60), Load(6, 50), Load(7, 40));

        Assert.Empty(hovering.OfType<OverloadCleared>());
        var clear = Assert.Single(cleared.OfType<OverloadCleared>());
        Assert.Equal((Ten.AddMinutes(4), Ten.AddMinutes(7)), (clear.BelowSince, clear.WindowEnd));
        Assert.False(state.Overloaded);
    }

    [Fact]
    public void Should_keep_one_overload_while_the_load_hovers_around_the_threshold()
    {
        var (state, events) = Run(RegionAlertState.Empty, Load(0, 90), Load(1, 91), Load(2, 92), Load(3, 84), Load(4, 86), Load(5, 83),
            Load(6, 87), Load(7, 81));

        Assert.True(state.Overloaded);
        Assert.Empty(events.OfType<OverloadCleared>());
        // Every overload window counts on the one open alert (the manager upserts it).
        Assert.Equal([3, 4, 5], events.OfType<OverloadRaised>().Select(r => r.OverloadWindows));
    }

    [Fact]
    public void Should_need_the_rule_windows_anew_after_a_clear_instead_of_re_raising_at_once()
    {
        var (cleared, _) = Run(RegionAlertState.Empty, Load(0, 90), Load(1, 91), Load(2, 92), Load(3, 50), Load(4, 50), Load(5, 50));

        var (_, again) = Run(cleared, Load(6, 90), Load(7, 91));
        var (_, third) = Run(cleared, Load(6, 90), Load(7, 91), Load(8, 92));

        Assert.Empty(cleared.OverloadWindowStarts);
        Assert.Empty(again.OfType<OverloadRaised>());
        Assert.Equal(Ten.AddMinutes(8), Assert.Single(third.OfType<OverloadRaised>()).WindowStart);
    }

    [Fact]
    public void Should_say_the_overload_continues_until_the_load_is_under_the_clear_percentage()
    {
        var (overloaded, _) = Run(RegionAlertState.Empty, Load(0, 90), Load(1, 91), Load(2, 92));

        var (hovering, _) = Run(overloaded, Load(3, 84));
        var (easing, _) = Run(overloaded, Load(3, 79));
        var (cleared, _) = Run(overloaded, Load(3, 50), Load(4, 50), Load(5, 50));

        Assert.True(hovering.OverloadContinues());
        Assert.False(easing.OverloadContinues());
        Assert.False(cleared.OverloadContinues());
        Assert.False(easing.ResolvedByOperator().Overloaded);
    }

    [Fact]
    public void Should_not_clear_a_region_that_was_never_overloaded()
    {
        var (state, events) = Run(RegionAlertState.Empty, Load(0, 90), Load(1, 50), Load(2, 50), Load(3, 50), Load(4, 50));

        Assert.False(state.Overloaded);
        Assert.Empty(events.OfType<OverloadCleared>());
    }

    [Fact]
    public void Should_restart_the_clear_run_when_a_window_at_or_above_the_clear_percentage_interrupts_it()
    {
        var (overloaded, _) = Run(RegionAlertState.Empty, Load(0, 90), Load(1, 91), Load(2, 92));

        var (state, events) = Run(overloaded, Load(3, 50), Load(4, 50), Load(5, 80), Load(6, 40));

        Assert.Empty(events.OfType<OverloadCleared>());
        Assert.Equal(Ten.AddMinutes(6), state.BelowSince);
    }

    [Fact]
    public void Should_forget_revisions_and_overload_windows_that_fell_out_of_the_span()
    {
        var (state, _) = Run(RegionAlertState.Empty, Load(0, 90), Load(1, 91), Load(40, 50));

        Assert.Empty(state.OverloadWindowStarts);
        Assert.Equal(["2024-01-15T10:40:00.0000000+00:00"], state.Revisions.Keys);
    }

    [Fact]
    public void Should_not_change_the_instance_it_decides_on()
    {
        var (state, _) = Run(RegionAlertState.Empty, Load(0, 90), Load(1, 91));
        var before = JsonSerializer.Serialize(state);

        _ = state.Decide(Load(2, 92), Policy);

        Assert.Equal(before, JsonSerializer.Serialize(state));
    }

    [Fact]
    public void Should_keep_the_stored_json_shape_of_alert_region_state()
    {
        var (state, _) = Run(RegionAlertState.Empty, Load(0, 90), Load(1, 50));
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

        var json = JsonNode.Parse(JsonSerializer.Serialize(state, options))!.AsObject();
        var back = JsonSerializer.Deserialize<RegionAlertState>(json.ToJsonString(), options)!;

        Assert.Equal(["overload_window_starts", "newest_window_start", "revisions", "below_since", "overloaded"], json.Select(p => p.Key));
        Assert.Equal(state.OverloadWindowStarts, back.OverloadWindowStarts);
        Assert.Equal(state.Revisions, back.Revisions);
        Assert.Equal((state.NewestWindowStart, state.BelowSince, state.Overloaded), (back.NewestWindowStart, back.BelowSince, back.Overloaded));
    }
}
