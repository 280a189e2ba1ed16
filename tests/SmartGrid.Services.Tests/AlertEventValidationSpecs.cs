using System.Text.Json;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Domain.Alerts;
using SmartGrid.Services.Common;

namespace SmartGrid.Services.Tests;

/// <summary>An alert event from the alerts topic whose type or status is not one of the seed's is dead-lettered, never guessed.</summary>
public sealed class AlertEventValidationSpecs
{
    private static readonly AlertEventMessage Raised = new(1, "created", "system", DateTimeOffset.UnixEpoch, new AlertView
    {
        AlertId = Guid.NewGuid(), Type = AlertType.Outage, Severity = "high", Region = "Nashik", Message = "m",
        Metadata = JsonDocument.Parse("{}").RootElement, Status = AlertStatus.Active,
    });

    private static AlertEventMessage Read(string from, string to) =>
        WireJson.Deserialize<AlertEventMessage>(WireJson.Serialize(Raised).Replace(from, to, StringComparison.Ordinal));

    [Fact]
    public void Should_refuse_an_alert_event_whose_type_or_status_is_not_one()
    {
        var valid = WireJson.Deserialize<AlertEventMessage>(WireJson.Serialize(Raised)).Validated();
        Assert.Equal((AlertType.Outage, AlertStatus.Active), (valid.Alert.Type, valid.Alert.Status));

        // A number reads as an enum value without a name: validation refuses it, naming the field.
        Assert.Contains("alert.type", Assert.Throws<MalformedRecordException>(() => Read("\"OUTAGE\"", "7").Validated()).Message);
        Assert.Contains("alert.status", Assert.Throws<MalformedRecordException>(() => Read("\"active\"", "9").Validated()).Message);
        // A name that is not one never gets that far: the manager dead-letters a JsonException the same way.
        Assert.Throws<JsonException>(() => Read("\"OUTAGE\"", "\"FLOOD\""));
        Assert.Throws<JsonException>(() => Read("\"active\"", "\"paused\""));
    }
}
