using SmartGrid.Domain.Metering;

namespace SmartGrid.Domain.Tests.Metering;

/// <summary>
/// The meter's de-duplication ring answers exactly as the hash set it replaced, whatever the
/// timestamps: on the meter's cadence, off it, far ahead, far behind, and across forgetting.
/// </summary>
public class SeenTimestampsSpecs
{
    private static readonly long T0 = new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero).UtcTicks + 70 * TimeSpan.TicksPerMillisecond;

    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(2, 0.05)]
    [InlineData(3, 0.5)]
    [InlineData(4, 1.0)]
    public void Should_answer_exactly_as_a_hash_set_with_the_same_forgetting(int seed, double offCadence)
    {
        var random = new Random(seed);
        var ring = new SeenTimestamps();
        var model = new HashSet<long>();
        var newest = T0;
        for (var step = 0; step < 20_000; step++)
        {
            var roll = random.NextDouble();
            long ticks = roll switch
            {
                < 0.6 => newest + 10 * TimeSpan.TicksPerSecond,                                         // the next reading on cadence
                < 0.75 => newest - random.Next(0, 200) * 10 * TimeSpan.TicksPerSecond,                 // a re-send or a late one
                < 0.8 => newest + random.Next(300, 7_200) * TimeSpan.TicksPerSecond,                    // far ahead of the ring
                < 0.85 => newest - random.Next(2_000, 20_000) * TimeSpan.TicksPerSecond,                // far behind it
                _ => newest + random.Next(-600, 600) * TimeSpan.TicksPerSecond,
            };
            if (random.NextDouble() < offCadence) ticks += random.Next(1, 10_000_000); // another sub-second phase
            if (ticks <= 0) continue;

            Assert.Equal(model.Contains(ticks), ring.Contains(ticks));
            Assert.Equal(model.Add(ticks), ring.Add(ticks));
            if (roll < 0.6) newest = Math.Max(newest, ticks);
            if (step % 37 == 0)
            {
                var cutoff = newest - 30 * TimeSpan.TicksPerMinute;
                model.RemoveWhere(t => t < cutoff);
                ring.ForgetBefore(cutoff);
            }
            Assert.Equal(model.Count, ring.Count);
        }
        Assert.Equal(model.Order(), ring.ToSortedArray());
        var restored = new SeenTimestamps(ring.ToSortedArray());
        Assert.All(model, t => Assert.True(restored.Contains(t)));
        Assert.Equal(model.Order(), restored.ToSortedArray());
    }

    [Fact]
    public void Should_follow_a_meter_whose_cadence_moves_to_another_sub_second_phase()
    {
        var ring = new SeenTimestamps();
        for (var i = 0; i < 200; i++) ring.Add(T0 + i * 10 * TimeSpan.TicksPerSecond);
        var moved = T0 + 2_000 * TimeSpan.TicksPerSecond + 3 * TimeSpan.TicksPerMillisecond;
        for (var i = 0; i < 400; i++) ring.Add(moved + i * 10 * TimeSpan.TicksPerSecond);

        ring.ForgetBefore(moved + 400 * 10 * TimeSpan.TicksPerSecond - 30 * TimeSpan.TicksPerMinute);

        Assert.Equal(180, ring.Count);
        Assert.True(ring.Contains(moved + 399 * 10 * TimeSpan.TicksPerSecond));
        Assert.False(ring.Add(moved + 399 * 10 * TimeSpan.TicksPerSecond));
        Assert.False(ring.Contains(T0 + 199 * 10 * TimeSpan.TicksPerSecond));
    }
}
