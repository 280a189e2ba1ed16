using SmartGrid.Domain.Alerts;

namespace SmartGrid.Domain.Tests.Alerts;

public class AlertStatusSpecs
{
    [Fact]
    public void Should_acknowledge_only_an_active_alert_and_resolve_one_only_once()
    {
        var moves = from was in Enum.GetValues<AlertStatus>()
                    from next in Enum.GetValues<AlertStatus>()
                    where was.CanMoveTo(next)
                    select (was, next);

        Assert.Equal(
            [(AlertStatus.Active, AlertStatus.Acknowledged), (AlertStatus.Active, AlertStatus.Resolved), (AlertStatus.Acknowledged, AlertStatus.Resolved)],
            moves);
    }
}
