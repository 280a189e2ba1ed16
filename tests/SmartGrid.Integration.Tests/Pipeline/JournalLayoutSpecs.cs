using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using SmartGrid.Actors.Hosting;
using SmartGrid.Actors.Metering;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Integration.Tests.Pipeline;

/// <summary>
/// How the node lays out its journal, which the pipeline's throughput depends on: window events
/// carry their tag in the journal row (this plugin's tag-table query scans the whole tag table
/// once per event read), and regions write through a journal plugin of their own, configured
/// like the meters' one.
/// </summary>
public sealed class JournalLayoutSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private PipelineNode _node = null!;

    public async Task InitializeAsync() => _node = await PipelineNode.StartAsync();
    public async Task DisposeAsync() => await _node.DisposeAsync();

    private Task<long> ScalarAsync(string sql, string meter) => _node.MeterScalarAsync(sql, meter);

    [Fact]
    public async Task Should_tag_published_windows_in_the_journal_row_and_write_nothing_to_the_tag_table()
    {
        const string meter = "MTR-00000201";
        var meters = _node.App.Services.GetRequiredService<ActorRegistry>().Get<MeterBucket>();
        var t0 = Window.Floor(DateTimeOffset.UtcNow, WindowSize.FifteenMinutes).AddMinutes(-30);
        // The last two readings move the watermark (the second-newest reading) past the first minute plus its lateness: that window is published.
        var recorded = await meters.Ask<ReadingsRecorded>(
            RecordReadings.Of(meter, [PipelineNode.Reading(meter, t0), PipelineNode.Reading(meter, t0.AddSeconds(10)), PipelineNode.Reading(meter, t0.AddMinutes(3)),
                PipelineNode.Reading(meter, t0.AddMinutes(3).AddSeconds(10))]), Timeout);
        await meters.Ask<ReadingsCheckpointed>(CheckpointReadings.Of(meter, recorded.Incarnation), Timeout);

        Assert.True(await ScalarAsync($"SELECT count(*) FROM journal WHERE persistence_id = @p AND tags LIKE '%{MeterBucket.WindowsTag}%'", meter) >= 1);
        if (await ScalarAsync("SELECT count(*) FROM pg_class WHERE relname = 'tags' AND @p IS NOT NULL", meter) > 0)
            Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM tags WHERE persistence_id = @p", meter));
    }

    [Fact]
    public void Should_give_regions_a_journal_plugin_of_their_own_with_the_same_tag_mode_and_patience()
    {
        var config = _node.App.Services.GetRequiredService<ActorSystem>().Settings.Config;
        foreach (var plugin in new[] { "akka.persistence.journal.sql", AkkaConfiguration.RegionJournalPluginId })
        {
            Assert.Equal("csv", config.GetString($"{plugin}.tag-write-mode").ToLowerInvariant());
            Assert.Equal(TimeSpan.FromSeconds(60), config.GetTimeSpan($"{plugin}.circuit-breaker.call-timeout"));
        }
        Assert.Equal(1, config.GetInt("akka.persistence.journal.sql.max-row-by-row-size"));
        Assert.Equal(LinqToDB.Data.BulkCopyType.ProviderSpecific, LinqToDB.DataProvider.PostgreSQL.PostgreSQLOptions.Default.BulkCopyType);
    }
}
