using SmartGrid.Domain.Alerts;

namespace SmartGrid.Domain.Tests.Alerts;

public class AlertEscalationSpecs
{
    private static readonly DateTimeOffset Nine = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
    private static readonly EscalationPolicy Critical = new(Guid.NewGuid(), "critical", "critical", null, null,
        [new EscalationTier([Guid.NewGuid()], [], TimeSpan.FromMinutes(10)), new EscalationTier([], ["ADMIN"], TimeSpan.FromMinutes(20))]);
    private static readonly EscalationPolicy Any = new(Guid.NewGuid(), "any", null, null, null, [new EscalationTier([], ["OPERATOR"], TimeSpan.FromMinutes(5))]);
    private static readonly EscalationPolicy[] Policies = [Any, Critical];

    private static EscalationStep? Next(AlertEscalation e, int minute, AlertStatus status = AlertStatus.Active, string? severity = null) =>
        e.Decide(Nine.AddMinutes(minute), status, severity ?? e.Severity, Policies.FirstOrDefault(p => p.PolicyId == e.PolicyId),
            s => EscalationPolicy.For(Policies, s, e.AlertType, e.Region),
            s => s == "critical" ? TimeSpan.FromMinutes(15) : s == "high" ? TimeSpan.FromMinutes(60) : null, maxReminders: 2);

    private static AlertEscalation Raised(string severity) =>
        AlertEscalation.Start(Guid.NewGuid(), "Nashik", AlertType.Threshold, severity, EscalationPolicy.For(Policies, severity, AlertType.Threshold, "Nashik"), Nine);

    [Fact]
    public void Should_choose_the_most_specific_policy_that_covers_the_alert()
    {
        Assert.Same(Critical, EscalationPolicy.For(Policies, "CRITICAL", AlertType.Outage, "Pune-West"));
        Assert.Same(Any, EscalationPolicy.For(Policies, "high", AlertType.Outage, "Pune-West"));
        Assert.Null(EscalationPolicy.For([Critical], "high", AlertType.Outage, "Pune-West"));
    }

    [Fact]
    public void Should_escalate_after_the_tiers_wait_and_remind_on_the_severitys_schedule()
    {
        var e = Raised("critical");
        Assert.Null(Next(e, 9));
        var up = Assert.IsType<Escalated>(Next(e, 10));
        Assert.Equal(2, up.Tier);
        e = e.Apply(up, Nine.AddMinutes(10));
        Assert.Equal((2, 1), (e.Tier, e.Step));

        // No tier 3: from here only reminders, every 15 minutes after the last message, at most two.
        Assert.Null(Next(e, 24));
        e = e.Apply(Assert.IsType<Reminded>(Next(e, 25)), Nine.AddMinutes(25));
        e = e.Apply(Assert.IsType<Reminded>(Next(e, 40)), Nine.AddMinutes(40));
        Assert.Null(Next(e, 400));
    }

    [Fact]
    public void Should_stop_once_acknowledged_and_de_escalate_when_the_severity_falls()
    {
        var e = Raised("critical");
        Assert.IsType<EscalationStopped>(Next(e, 30, status: AlertStatus.Acknowledged));

        e = e.Apply(Assert.IsType<Escalated>(Next(e, 10)), Nine.AddMinutes(10));
        var down = Assert.IsType<DeEscalated>(Next(e, 12, severity: "high"));
        Assert.Same(Any, down.Policy);
        e = e.Apply(down, Nine.AddMinutes(12));
        Assert.Equal(("high", Any.PolicyId, 1, 0), (e.Severity, e.PolicyId, e.Tier, e.Reminders));
        // Any has a single tier, so nothing to escalate to after its 5 minutes: only high's hourly reminders remain.
        Assert.Null(Next(e, 17));
        Assert.IsType<Reminded>(Next(e, 72));

        var raised = Assert.IsType<SeverityRaised>(Next(e, 20, severity: "critical"));
        Assert.Equal((Critical.PolicyId, 1), (e.Apply(raised, Nine.AddMinutes(20)).PolicyId, e.Apply(raised, Nine.AddMinutes(20)).Tier));
    }
}
