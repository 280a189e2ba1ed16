using System.Text.Json;
using System.Text.Json.Nodes;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Domain;
using SmartGrid.Domain.Alerts;
using SmartGrid.Storage.Alerts;

namespace SmartGrid.Storage.Tests;

/// <summary>
/// Alert types and statuses are enums in code but text everywhere else: the alerts topic, command replies, REST bodies
/// and the alerts table carry the seed's spelling, and a spelling that is not one of them is refused, not guessed.
/// </summary>
public sealed class AlertWireNameSpecs(PostgresDatabase db) : IClassFixture<PostgresDatabase>
{
    private static readonly string[] TypeNames = ["ANOMALY", "THRESHOLD", "OUTAGE", "INCIDENT", "POWER_QUALITY", "SWELL"];
    private static readonly string[] StatusNames = ["active", "acknowledged", "resolved"];

    private static AlertView View(AlertType type, AlertStatus status) => new()
    {
        AlertId = Guid.NewGuid(), Type = type, Severity = "high", Region = "Nashik", Message = "m",
        Metadata = JsonDocument.Parse("{}").RootElement, Status = status,
    };

    [Fact]
    public void Should_carry_every_type_and_status_in_json_as_the_seeds_text_and_read_it_back()
    {
        Assert.Equal(TypeNames, Enum.GetValues<AlertType>().Select(t => t.ToWireName()));
        Assert.Equal(StatusNames, Enum.GetValues<AlertStatus>().Select(s => s.ToWireName()));
        // WireJson (topics, Akka replies) and a plain string-enum converter (the gateway's) write the same text.
        JsonSerializerOptions[] settings = [WireJson.Options, new() { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } }];
        foreach (var options in settings)
        {
            foreach (var (type, status) in Enum.GetValues<AlertType>().Zip(Enum.GetValues<AlertStatus>().Concat(Enum.GetValues<AlertStatus>())))
            {
                var json = JsonSerializer.Serialize(View(type, status), options);
                var node = JsonNode.Parse(json)!.AsObject();
                var (typeField, statusField) = options == WireJson.Options ? ("type", "status") : ("Type", "Status");
                Assert.Equal(TypeNames[(int)type - 1], (string?)node[typeField]);
                Assert.Equal(StatusNames[(int)status - 1], (string?)node[statusField]);
                var back = JsonSerializer.Deserialize<AlertView>(json, options)!;
                Assert.Equal((type, status), (back.Type, back.Status));
            }
        }
    }

    [Fact]
    public async Task Should_store_every_type_and_status_as_its_text_and_read_it_back()
    {
        var store = new AlertStore(db.Storage.DataSource);
        var at = new DateTimeOffset(2030, 5, 1, 8, 0, 0, TimeSpan.Zero);
        foreach (var type in Enum.GetValues<AlertType>())
        {
            await using var tx = await store.BeginAsync();
            var (opened, _) = await tx.UpsertOpenAsync(new AlertOccurrence(type, Severity.High, "Wire-Region", $"MTR-{type}", "m",
                new Dictionary<string, object?>(), at));
            var acknowledged = await tx.AcknowledgeAsync(opened.AlertId, "operator-1", at);
            var resolved = await tx.ResolveAsync(opened.AlertId, "operator-1", at);
            await tx.CommitAsync();

            Assert.Equal([(type, AlertStatus.Active), (type, AlertStatus.Acknowledged), (type, AlertStatus.Resolved)],
                new[] { opened, acknowledged!, resolved! }.Select(a => (a.Type, a.Status)));
            var found = await store.FindAsync(opened.AlertId, CancellationToken.None);
            Assert.Equal((type, AlertStatus.Resolved), (found!.Type, found.Status));
            Assert.Equal($"{TypeNames[(int)type - 1]} resolved",
                await db.ScalarAsync<string>($"SELECT type || ' ' || status FROM alerts WHERE alert_id = '{opened.AlertId}'"));
        }

        var (items, total) = await store.ListAsync(
            new AlertFilter(["Wire-Region"], null, AlertType.PowerQuality, [AlertStatus.Resolved]), 10, 0, CancellationToken.None);
        Assert.Equal((1L, AlertType.PowerQuality), (total, Assert.Single(items).Type));
    }

    [Fact]
    public async Task Should_refuse_a_type_or_status_read_from_the_database_that_is_not_one_naming_it()
    {
        // The CHECK constraints keep such text out; a row written around them (a hand edit, a newer writer) must not be
        // read as some other type.
        await db.ExecuteAsync("ALTER TABLE alerts DROP CONSTRAINT alerts_type_check, DROP CONSTRAINT alerts_status_check");
        var flood = Guid.NewGuid();
        var paused = Guid.NewGuid();
        await db.ExecuteAsync($"""
            INSERT INTO alerts (alert_id, type, severity, region, message, status, first_seen_at, last_seen_at) VALUES
                ('{flood}', 'FLOOD', 'high', 'Odd-Region', 'm', 'active', now(), now()),
                ('{paused}', 'OUTAGE', 'high', 'Odd-Region', 'm', 'paused', now(), now())
            """);
        var store = new AlertStore(db.Storage.DataSource);

        var type = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.FindAsync(flood, CancellationToken.None));
        Assert.Contains("AlertType 'FLOOD' is unknown: expected one of ANOMALY, THRESHOLD, OUTAGE, INCIDENT, POWER_QUALITY, SWELL", type.Message);
        var status = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.FindAsync(paused, CancellationToken.None));
        Assert.Contains("AlertStatus 'paused' is unknown: expected one of active, acknowledged, resolved", status.Message);
    }

    [Fact]
    public void Should_refuse_a_type_or_status_on_the_wire_that_is_not_one()
    {
        var json = WireJson.Serialize(View(AlertType.Outage, AlertStatus.Active));
        Assert.Throws<JsonException>(() => WireJson.Deserialize<AlertView>(json.Replace("\"OUTAGE\"", "\"FLOOD\"", StringComparison.Ordinal)));
        Assert.Throws<JsonException>(() => WireJson.Deserialize<AlertView>(json.Replace("\"active\"", "\"paused\"", StringComparison.Ordinal)));
        // The member's name is not its wire name: "Outage" is refused like any other stranger.
        Assert.Throws<JsonException>(() => WireJson.Deserialize<AlertView>(json.Replace("\"OUTAGE\"", "\"Outage\"", StringComparison.Ordinal)));
    }
}
