using SmartGrid.Actors.Metering;
using SmartGrid.Actors.Persistence;

namespace SmartGrid.Actors.Tests;

/// <summary>
/// A fleet that starts together must not snapshot together: the 50,000-meter soak stalled for ten minutes when every
/// meter wrote its first snapshot in the same minute and the journal cleanup deleted their events at once.
/// </summary>
public sealed class SnapshotPhaseSpecs
{
    [Fact]
    public void Should_spread_a_fleets_first_snapshots_over_half_an_interval()
    {
        const int every = 100;
        var firsts = Enumerable.Range(0, 50_000)
            .Select(m => WindowOwnerActor.FirstSnapshotAfter(MeterBucket.PersistenceIdPrefix + $"MTR-{m:D8}", every)).ToList();

        Assert.All(firsts, n => Assert.InRange(n, every / 2 + 1, every));
        var byCount = firsts.GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());
        // Every count of the spread is used, and none by much more than its share (1,000 meters each).
        Assert.Equal(every / 2, byCount.Count);
        Assert.All(byCount.Values, meters => Assert.InRange(meters, 700, 1_300));
    }

    [Fact]
    public void Should_keep_a_meters_phase_across_restarts_and_keep_short_intervals_exact()
    {
        Assert.Equal(WindowOwnerActor.FirstSnapshotAfter("meter-MTR-00000042", 100), WindowOwnerActor.FirstSnapshotAfter("meter-MTR-00000042", 100));
        Assert.NotEqual(WindowOwnerActor.FirstSnapshotAfter("meter-MTR-00000042", 100), WindowOwnerActor.FirstSnapshotAfter("meter-MTR-00000043", 100));
        foreach (var every in new[] { 1, 2, 3 })
            Assert.Equal(every, WindowOwnerActor.FirstSnapshotAfter("meter-MTR-00000042", every));
    }
}
