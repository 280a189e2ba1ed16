namespace SmartGrid.Domain.Alerts;

/// <summary>
/// An ADMIN's escalation policy: which alerts it covers (null selectors match any) and its ordered tiers.
/// Kept small on purpose: no schedules, no rotations, no per-tier channels (a person's own preferences choose those).
/// </summary>
public sealed record EscalationPolicy(Guid PolicyId, string Name, string? Severity, AlertType? AlertType, string? Region,
    IReadOnlyList<EscalationTier> Tiers)
{
    public bool Covers(string severity, AlertType alertType, string region) =>
        (Severity is null || string.Equals(Severity, severity, StringComparison.OrdinalIgnoreCase))
        && (AlertType is null || AlertType == alertType)
        && (Region is null || string.Equals(Region, region, StringComparison.OrdinalIgnoreCase));

    /// <summary>How many selectors are set: a policy for "critical OUTAGE in Pune-West" beats one for "critical".</summary>
    public int Specificity => (Severity is null ? 0 : 1) + (AlertType is null ? 0 : 1) + (Region is null ? 0 : 1);

    /// <summary>The policy for an alert: the most specific covering one; <paramref name="policies"/> oldest first breaks ties.</summary>
    public static EscalationPolicy? For(IEnumerable<EscalationPolicy> policies, string severity, AlertType alertType, string region) =>
        policies.Where(p => p.Covers(severity, alertType, region)).OrderByDescending(p => p.Specificity).FirstOrDefault();
}

/// <summary>One tier: the people paged (named users, and every user of a role who operates the alert's region) and how long they have before the next tier.</summary>
public sealed record EscalationTier(IReadOnlyList<Guid> Users, IReadOnlyList<string> Roles, TimeSpan Wait);

/// <summary>What an unacknowledged alert's escalation does next (see <see cref="AlertEscalation.Decide"/>).</summary>
public abstract record EscalationStep;

/// <summary>The alert is no longer active (acknowledged or resolved): no more reminders or pages.</summary>
public sealed record EscalationStopped : EscalationStep;

/// <summary>The next tier is paged; <paramref name="Tier"/> is 1-based.</summary>
public sealed record Escalated(int Tier, EscalationPolicy Policy) : EscalationStep;

/// <summary>The <paramref name="Number"/>th reminder to everyone told so far.</summary>
public sealed record Reminded(int Number) : EscalationStep;

/// <summary>The severity fell: back to tier 1 of the policy for the new severity (if any), reminders on its schedule.</summary>
public sealed record DeEscalated(string From, string To, EscalationPolicy? Policy) : EscalationStep;

/// <summary>The severity rose: the policy and reminder schedule of the new severity apply from here (tier kept when the policy is the same).</summary>
public sealed record SeverityRaised(string To, EscalationPolicy? Policy) : EscalationStep;

/// <summary>
/// Where an unacknowledged alert's reminders and escalation stand (a row of alert_escalations).
/// <see cref="Decide"/> picks at most one step due at a time without changing anything; <see cref="Apply"/> is the only
/// way to move on, and bumps <see cref="Step"/>, which the store uses for optimistic concurrency and the idempotency keys.
/// Pure and clock-free: the caller passes "now", so specs drive it with a fake clock and a restart resumes from the row.
/// </summary>
public sealed record AlertEscalation(Guid AlertId, string Region, AlertType AlertType, string Severity, Guid? PolicyId, int Tier,
    DateTimeOffset TierSince, int Reminders, DateTimeOffset LastNotifiedAt, int Step)
{
    /// <summary>A new alert: tier 1 of its policy is paged with its first notification at <paramref name="raisedAt"/>.</summary>
    public static AlertEscalation Start(Guid alertId, string region, AlertType alertType, string severity, EscalationPolicy? policy,
        DateTimeOffset raisedAt) =>
        new(alertId, region, alertType, severity, policy?.PolicyId, 1, raisedAt, 0, raisedAt, 0);

    /// <param name="status">The alert's status now.</param>
    /// <param name="severity">The alert's severity now.</param>
    /// <param name="policy">The policy this escalation follows (null: none, or it was deleted).</param>
    /// <param name="policyFor">The policy an alert of a given severity would get now.</param>
    /// <param name="reminderEvery">The reminder interval of a severity (null: no reminders).</param>
    /// <param name="maxReminders">Reminders at most per severity level reached, so a forgotten alert does not remind forever.</param>
    public EscalationStep? Decide(DateTimeOffset now, AlertStatus status, string severity, EscalationPolicy? policy,
        Func<string, EscalationPolicy?> policyFor, Func<string, TimeSpan?> reminderEvery, int maxReminders)
    {
        if (status != AlertStatus.Active)
            return new EscalationStopped();
        var (was, @is) = (SeverityExtensions.RankOf(Severity), SeverityExtensions.RankOf(severity));
        if (@is < was)
            return new DeEscalated(Severity, severity, policyFor(severity));
        if (@is > was)
            return new SeverityRaised(severity, policyFor(severity));
        if (policy is not null && Tier < policy.Tiers.Count && now >= TierSince + policy.Tiers[Tier - 1].Wait)
            return new Escalated(Tier + 1, policy);
        if (reminderEvery(Severity) is { } every && every > TimeSpan.Zero && Reminders < maxReminders && now >= LastNotifiedAt + every)
            return new Reminded(Reminders + 1);
        return null;
    }

    public AlertEscalation Apply(EscalationStep step, DateTimeOffset now) => step switch
    {
        Escalated e => this with { Tier = e.Tier, TierSince = now, LastNotifiedAt = now, Step = Step + 1 },
        Reminded r => this with { Reminders = r.Number, LastNotifiedAt = now, Step = Step + 1 },
        DeEscalated d => this with
        {
            Severity = d.To, PolicyId = d.Policy?.PolicyId, Tier = 1, TierSince = now, Reminders = 0, LastNotifiedAt = now, Step = Step + 1,
        },
        SeverityRaised r => this with
        {
            Severity = r.To, PolicyId = r.Policy?.PolicyId, Tier = r.Policy?.PolicyId == PolicyId ? Tier : 1,
            TierSince = r.Policy?.PolicyId == PolicyId ? TierSince : now, Reminders = 0, Step = Step + 1,
        },
        EscalationStopped => this with { Step = Step + 1 },
        _ => throw new ArgumentOutOfRangeException(nameof(step), step, "unknown escalation step"),
    };
}
