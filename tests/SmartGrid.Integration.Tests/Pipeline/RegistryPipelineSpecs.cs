using System.Text;
using Confluent.Kafka;
using Npgsql;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Storage;

namespace SmartGrid.Integration.Tests.Pipeline;

/// <summary>
/// The processor and the operator's registry: readings put on raw_readings straight (not through
/// HTTP ingestion) are held to the meter registry (a claim of another region or of an unknown one
/// goes to the dead-letter topic, keyed by the meter, and is neither counted nor archived; a
/// reading without region is counted in its meter's), and load is measured against the capacity
/// in the regions table.
/// </summary>
public sealed class RegistryPipelineSpecs
{
    [Fact]
    public async Task Should_dead_letter_region_claims_the_registry_contradicts_and_count_the_rest_in_the_registered_region()
    {
        await using var node = await PipelineNode.StartAsync();
        var (agreeing, claimingOther, silent, invented) = ("MTR-12000001", "MTR-12000002", "MTR-12000003", "MTR-12000004");
        await using var dataSource = NpgsqlDataSource.Create(node.Database.ConnectionString);
        await new MeterRegistry(dataSource).EnsureRegisteredAsync([(agreeing, "Nashik"), (claimingOther, "Nashik"), (silent, "Nashik")]);
        var at = DateTimeOffset.UtcNow.AddMinutes(-10);

        await PipelineNode.ProduceAsync(node.KafkaBootstrap,
        [
            PipelineNode.Reading(agreeing, at),
            PipelineNode.Reading(claimingOther, at) with { Region = "Pune-West" },
            PipelineNode.Reading(silent, at) with { Region = null },
            PipelineNode.Reading(invented, at) with { Region = "EvilRegion" },
        ]);

        var deadLetters = await ReadDeadLettersAsync(node.KafkaBootstrap, 2);
        Assert.Equal([claimingOther, invented], deadLetters.Select(d => d.Message.Key).Order());
        Assert.All(deadLetters, d => Assert.StartsWith("region: ", Encoding.UTF8.GetString(d.Message.Headers.GetLastBytes("reason"))));
        var archived = await EventuallyAsync(dataSource, "SELECT meter_id || ':' || region FROM raw_readings ORDER BY meter_id", rows => rows.Count == 2);
        Assert.Equal([$"{agreeing}:Nashik", $"{silent}:Nashik"], archived);
        var counted = await EventuallyAsync(dataSource, "SELECT DISTINCT meter_id || ':' || region FROM aggregates_1m ORDER BY 1", rows => rows.Count == 2);
        Assert.Equal([$"{agreeing}:Nashik", $"{silent}:Nashik"], counted);
        Assert.Empty(await QueryAsync(dataSource, "SELECT name FROM regions WHERE name = 'EvilRegion'"));
        Assert.Empty(await QueryAsync(dataSource, "SELECT DISTINCT region FROM regional_aggregates_1m WHERE region <> 'Nashik'"));
    }

    [Fact]
    public async Task Should_measure_load_against_the_capacity_the_operator_set_without_a_restart()
    {
        await using var node = await PipelineNode.StartAsync();
        await using var dataSource = NpgsqlDataSource.Create(node.Database.ConnectionString);
        // Through the node's own catalog, as the admin route of a gateway on this node does; another
        // node's change reaches this one at its next reload (RegionCatalog.RefreshInterval).
        var catalog = (RegionCatalog)node.App.Services.GetService(typeof(RegionCatalog))!;
        Assert.Equal(RegionChange.Done, (await catalog.UpdateAsync("nashik", 10, 230, "Asia/Kolkata", "specs")).Outcome);
        var at = DateTimeOffset.UtcNow.AddMinutes(-10);

        // One meter at 1 kW: 10 % of 10 kW (it was 0.04 % of the seeded 2,500 kW).
        await PipelineNode.ProduceAsync(node.KafkaBootstrap, [PipelineNode.Reading("MTR-12000101", at)]);

        var rows = await EventuallyAsync(dataSource,
            "SELECT capacity_kw::text || ':' || round(load_percent::numeric, 2)::text FROM regional_aggregates_1m WHERE region = 'Nashik'", r => r.Count > 0);
        Assert.Equal(["10:10.00"], rows);
    }

    private static async Task<List<ConsumeResult<string, string>>> ReadDeadLettersAsync(string bootstrap, int expected)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = "gate-specs-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(Topics.DeadLetters);
        var found = new List<ConsumeResult<string, string>>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (found.Count < expected && DateTime.UtcNow < deadline)
        {
            if (await Task.Run(() => consumer.Consume(TimeSpan.FromMilliseconds(500))) is { IsPartitionEOF: false } record)
                found.Add(record);
        }
        consumer.Close();
        return found;
    }

    private static async Task<List<string>> EventuallyAsync(NpgsqlDataSource dataSource, string sql, Func<List<string>, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var rows = await QueryAsync(dataSource, sql);
            if (done(rows) || DateTime.UtcNow > deadline)
                return rows;
            await Task.Delay(250);
        }
    }

    private static async Task<List<string>> QueryAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var cmd = dataSource.CreateCommand(sql);
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
            rows.Add(reader.GetString(0));
        return rows;
    }
}
