using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SmartGrid.Actors.Hosting;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Kafka;
using SmartGrid.Ingestion;

namespace SmartGrid.Integration.Tests.Pipeline;

/// <summary>
/// A reading from the future, through the whole node: posted over HTTP it must not make its meter
/// drop the genuine readings that follow; put on Kafka by another way it is held to the same
/// clock skew as ingestion and dead-lettered.
/// </summary>
public sealed class ClockSkewSpecs
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static JsonObject Reading(string meter, DateTimeOffset at) => new()
    {
        ["meter_id"] = meter,
        ["timestamp"] = at.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        ["voltage"] = 230.0,
        ["current"] = 4.35,
        ["power_kw"] = 1.0,
        ["energy_kwh"] = 1.0 / 360,
        ["region"] = "Nashik",
    };

    [Fact]
    public async Task Should_count_all_18_genuine_readings_posted_after_one_stamped_four_minutes_ahead()
    {
        const string meter = "MTR-00000301";
        // A skew wide enough to let the reading from the future in: the meter itself must cope.
        await using var node = await PipelineNode.StartAsync("ingest,processor", "--SmartGrid:Ingestion:MaxClockSkew=00:05:00");
        using var http = await node.HeadEndClientAsync([(meter, "Nashik")]);
        var now = DateTimeOffset.UtcNow;
        var genuine = Enumerable.Range(0, 18).Select(i => now.AddMinutes(-3).AddSeconds(10 * i)).ToList();

        using (var ahead = await http.PostAsync(IngestionHosting.Route, JsonContent.Create(new JsonArray(Reading(meter, now.AddMinutes(4))))))
            Assert.Equal(HttpStatusCode.OK, ahead.StatusCode);
        using (var backlog = await http.PostAsync(IngestionHosting.Route, JsonContent.Create(new JsonArray(genuine.Select(t => (JsonNode)Reading(meter, t)).ToArray()))))
            Assert.Equal(HttpStatusCode.OK, backlog.StatusCode);

        var expected = genuine.Append(now.AddMinutes(4)).GroupBy(t => Window.Floor(t, WindowSize.OneMinute)).ToDictionary(g => g.Key, g => g.Count());
        var until = DateTime.UtcNow + Deadline;
        Dictionary<DateTimeOffset, int> stored;
        while (!(stored = await OneMinuteCountsAsync(node, meter)).OrderBy(kv => kv.Key).SequenceEqual(expected.OrderBy(kv => kv.Key)) && DateTime.UtcNow < until)
            await Task.Delay(500);
        Assert.Equal(expected.OrderBy(kv => kv.Key), stored.OrderBy(kv => kv.Key));

        var meters = node.Meters;
        var status = await meters.Ask<MeterStatus>(new GetMeterStatus(meter), TimeSpan.FromSeconds(10));
        Assert.Equal((19L, 0L), (status.AcceptedTotal, status.TooLateTotal));
    }

    [Fact]
    public async Task Should_dead_letter_a_reading_on_kafka_stamped_beyond_the_clock_skew()
    {
        const string meter = "MTR-00000302";
        await using var node = await PipelineNode.StartAsync();
        var now = DateTimeOffset.UtcNow;
        await PipelineNode.ProduceAsync(node.KafkaBootstrap,
            [PipelineNode.Reading(meter, now.AddMinutes(4)), PipelineNode.Reading(meter, now.AddSeconds(-20))]);

        var letter = ReadDeadLetter(node.KafkaBootstrap, meter);

        Assert.Contains(now.AddMinutes(4).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture), letter.Message.Value);
        Assert.EndsWith("timestamp: must not be more than 30 seconds in the future",
            System.Text.Encoding.UTF8.GetString(letter.Message.Headers.GetLastBytes("reason")));
        var meters = node.Meters;
        var until = DateTime.UtcNow + Deadline;
        MeterStatus status;
        while ((status = await meters.Ask<MeterStatus>(new GetMeterStatus(meter), TimeSpan.FromSeconds(10))).AcceptedTotal == 0 && DateTime.UtcNow < until)
            await Task.Delay(500);
        Assert.Equal(1, status.AcceptedTotal);
    }

    private static ConsumeResult<string, string> ReadDeadLetter(string bootstrap, string key)
    {
        KafkaNative.EnsureLoaded();
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = "clock-skew-specs-" + Guid.NewGuid().ToString("N"), AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe(Topics.DeadLetters);
        var until = DateTime.UtcNow + Deadline;
        while (DateTime.UtcNow < until)
            if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is { Message.Key: var k } record && k == key)
                return record;
        throw new TimeoutException($"no dead letter with key {key} within {Deadline}");
    }

    private static async Task<Dictionary<DateTimeOffset, int>> OneMinuteCountsAsync(PipelineNode node, string meter)
    {
        await using var connection = new NpgsqlConnection(node.Database.ConnectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT window_start, reading_count FROM aggregates_1m WHERE meter_id = @m", connection);
        cmd.Parameters.AddWithValue("m", meter);
        var counts = new Dictionary<DateTimeOffset, int>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) counts[reader.GetFieldValue<DateTimeOffset>(0)] = reader.GetInt32(1);
        return counts;
    }
}
