using System.Collections.Immutable;
using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.Hosting;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Npgsql;
using SmartGrid.Actors.Hosting;

namespace SmartGrid.Actors.Tests;

/// <summary>
/// The meters' journal writes its rows itself (<see cref="Persistence.BatchedSqlJournal"/>, one COPY for many writes):
/// a write another writer already made (its sequence number taken) fails alone, not the writes it shared a COPY with,
/// and the rows are the plugin's own: the plugin replays them, and the projections' tag query finds them.
/// The batch sizes are read from the process-wide journal metric, so no other spec may write beside these
/// (<see cref="JournalWriteCollection"/>): a parallel spec's 100-row COPY once showed up as this spec's largest batch.
/// </summary>
[Collection(nameof(JournalWriteCollection))]
public sealed class JournalWriteSpecs(ActorDatabase database, ITestOutputHelper output) : ActorSpec(database, output)
{
    private const string Tag = "journal-write-spec";

    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider)
    {
        base.ConfigureAkka(builder, provider);
        // One COPY at a time: while it waits, every later write queues for the next, so which writes share one is known.
        builder.AddHocon("akka.persistence.journal.sql.parallelism = 1", HoconAddMode.Prepend);
    }

    [Fact]
    public async Task Should_fail_only_the_write_whose_sequence_number_is_taken_when_it_shares_a_copy_with_others()
    {
        var ct = TestContext.Current.CancellationToken;
        var journal = Akka.Persistence.Persistence.Instance.Apply(Sys).JournalFor(null);
        using var batches = new BatchSizes();
        // A second writer's entity already has event 1 (a zombie after a split brain, say).
        Assert.IsType<WriteMessageSuccess>(await WriteAsync(journal, "zombie", 1, "first"));

        var locked = await Database.LockAsync("journal");
        var fresh = Enumerable.Range(0, 20).Select(i => $"fresh-{i}").ToArray();
        // The first writes' COPY waits on the lock; the writes after it, the conflicting one among them, queue as one batch.
        var before = fresh.Take(10).Select(id => WriteAsync(journal, id, 1, $"{id} 1")).ToList();
        await AwaitConditionAsync(() => Task.FromResult(batches.Recorded >= 1), Patience, cancellationToken: ct);
        var conflicting = WriteAsync(journal, "zombie", 1, "second");
        var after = fresh.Skip(10).Select(id => WriteAsync(journal, id, 1, $"{id} 1")).ToList();
        await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        await locked.DisposeAsync();

        var refused = Assert.IsType<WriteMessageFailure>(await conflicting);
        Assert.Equal("23505", Assert.IsType<PostgresException>(refused.Cause).SqlState);
        Assert.All(await Task.WhenAll(before.Concat(after)), answer => Assert.IsType<WriteMessageSuccess>(answer));
        Assert.InRange(batches.Largest, 11, 21);
        foreach (var id in fresh) Assert.Equal(1, await Database.JournalRowsAsync(id));
        Assert.Equal(["first"], await ReplayAsync(journal, "zombie"));
    }

    [Fact]
    public async Task Should_write_rows_the_plugin_replays_and_the_tag_query_reads_as_its_own()
    {
        var ct = TestContext.Current.CancellationToken;
        var persistence = Akka.Persistence.Persistence.Instance.Apply(Sys);
        var ours = persistence.JournalFor(null);
        var plugins = persistence.JournalFor(AkkaConfiguration.RegionJournalPluginId);
        // The same events, one entity through each journal: two in one write, tagged, then one untagged.
        foreach (var (journal, id) in new[] { (ours, "written-by-us"), (plugins, "written-by-plugin") })
        {
            Assert.All(await WriteAsync(journal, id, [Tagged($"{id} 1"), Tagged($"{id} 2")]), answer => Assert.IsType<WriteMessageSuccess>(answer));
            Assert.IsType<WriteMessageSuccess>(await WriteAsync(journal, id, 3, $"{id} 3"));
        }

        var rows = await RowsAsync("written-by-us");
        Assert.Equal(3, rows.Count);
        Assert.Equal((await RowsAsync("written-by-plugin")).Select(r => r.Replace("written-by-plugin", "written-by-us")), rows);
        // Each journal, ours batched and the plugin's own, reads back what the other wrote.
        foreach (var journal in new[] { ours, plugins })
        foreach (var id in new[] { "written-by-us", "written-by-plugin" })
            Assert.Equal([$"{id} 1", $"{id} 2", $"{id} 3"], await ReplayAsync(journal, id));
        await AwaitAssertAsync(async () => Assert.Equal(
            ["written-by-us 1", "written-by-us 2", "written-by-plugin 1", "written-by-plugin 2"], await TaggedAsync<string>(Tag)),
            Patience, cancellationToken: ct);
    }

    private static Persistent Event(string persistenceId, long sequenceNr, object payload) =>
        new(payload, sequenceNr, persistenceId, string.Empty, false, ActorRefs.NoSender, "spec-writer");

    private static Func<string, long, Persistent> Tagged(string payload) =>
        (id, nr) => Event(id, nr, new Tagged(payload, [Tag]));

    private async Task<object> WriteAsync(IActorRef journal, string persistenceId, long sequenceNr, string payload) =>
        (await WriteAsync(journal, persistenceId, [(id, _) => Event(id, sequenceNr, payload)])).Single();

    /// <summary>One write of consecutive events (numbered from 1), as an entity persists them; the answer for each.</summary>
    private async Task<object[]> WriteAsync(IActorRef journal, string persistenceId, Func<string, long, Persistent>[] events)
    {
        var writer = CreateTestProbe();
        var payload = events.Select((e, i) => (IPersistentRepresentation)e(persistenceId, i + 1)).ToImmutableList();
        journal.Tell(new WriteMessages([new AtomicWrite(payload)], writer.Ref, 1));
        await writer.ExpectMsgAsync<object>(m => m is WriteMessagesSuccessful or WriteMessagesFailed, Patience);
        var answers = new object[events.Length];
        for (var i = 0; i < answers.Length; i++) answers[i] = await writer.ExpectMsgAsync<object>(Patience);
        return answers;
    }

    private async Task<List<string>> ReplayAsync(IActorRef journal, string persistenceId)
    {
        var reader = CreateTestProbe();
        journal.Tell(new ReplayMessages(1, long.MaxValue, long.MaxValue, persistenceId, reader.Ref));
        var payloads = new List<string>();
        while (await reader.ExpectMsgAsync<object>(Patience) is ReplayedMessage replayed) payloads.Add((string)replayed.Persistent.Payload);
        return payloads;
    }

    /// <summary>An entity's rows, every column but the ordering, the time and the writer's id (each journal has its own), in order; the payloads are strings.</summary>
    private async Task<List<string>> RowsAsync(string persistenceId)
    {
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        await using var select = new NpgsqlCommand(
            """
            SELECT concat_ws('|', persistence_id, sequence_number, deleted, coalesce(tags, '<null>'), manifest, identifier, convert_from(message, 'UTF8'),
                              length(writer_uuid), created BETWEEN $2 AND $3)
            FROM journal WHERE persistence_id = $1 ORDER BY sequence_number
            """, connection)
        {
            Parameters =
            {
                new() { Value = persistenceId },
                new() { Value = DateTime.UtcNow.AddMinutes(-10).Ticks },
                new() { Value = DateTime.UtcNow.Ticks },
            },
        };
        await using var reader = await select.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }

    /// <summary>The sizes of the journal's COPY batches while it lives.</summary>
    private sealed class BatchSizes : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _largest, _recorded;

        public BatchSizes()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == PipelineMetrics.MeterName && instrument.Name == "journal.write_batch_size")
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, size, _, _) =>
            {
                Interlocked.Increment(ref _recorded);
                long seen;
                while (size > (seen = Interlocked.Read(ref _largest)) && Interlocked.CompareExchange(ref _largest, size, seen) != seen) { }
            });
            _listener.Start();
        }

        public long Largest => Interlocked.Read(ref _largest);
        public long Recorded => Interlocked.Read(ref _recorded);

        public void Dispose() => _listener.Dispose();
    }
}

/// <summary>Runs its specs alone, none of the assembly's other specs beside them.</summary>
[CollectionDefinition(nameof(JournalWriteCollection), DisableParallelization = true)]
public sealed class JournalWriteCollection;
