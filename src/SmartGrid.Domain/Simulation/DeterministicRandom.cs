namespace SmartGrid.Domain.Simulation;

/// <summary>
/// A tiny SplitMix64 generator seeded from a hash of (seed, keys...). Each (meter, tick)
/// gets its own stream, so any tick of any meter can be generated alone, in any order or in
/// parallel, and always comes out the same. System.Random offers neither a stable algorithm
/// across runtime versions nor cheap keyed seeding.
/// </summary>
internal struct DeterministicRandom
{
    private const ulong Golden = 0x9E3779B97F4A7C15;
    private const ulong Golden2 = unchecked(2 * Golden);
    private const ulong Golden3 = unchecked(3 * Golden);
    private const ulong Golden4 = unchecked(4 * Golden);
    private ulong _state;

    private DeterministicRandom(ulong state) => _state = state;

    public static DeterministicRandom For(long seed, long a, long b, ulong salt) => new(Hash(seed, a, b, salt));

    /// <summary>
    /// The stream of one (subject, moment) pair from their keys (see <see cref="Key"/>). Keys are
    /// computed once per meter and once per tick, so a fleet-wide tick costs one mix per meter.
    /// </summary>
    public static DeterministicRandom For(ulong subjectKey, ulong momentKey) => new(Mix(subjectKey ^ momentKey));

    /// <summary>A well-mixed 64-bit key of one value in one role (salt), under a seed.</summary>
    public static ulong Key(long seed, long value, ulong salt)
    {
        // Wrapping arithmetic is the point of a hash: never let a checked build throw here.
        unchecked
        {
            ulong h = Mix((ulong)seed + Golden);
            h = Mix(h ^ Mix((ulong)value + Golden2));
            return Mix(h ^ Mix(salt + Golden3));
        }
    }

    /// <summary>A well-mixed 64-bit hash of the inputs (SplitMix64 finaliser chained over them).</summary>
    public static ulong Hash(long seed, long a, long b, ulong salt)
    {
        unchecked
        {
            ulong h = Mix((ulong)seed + Golden);
            h = Mix(h ^ Mix((ulong)a + Golden2));
            h = Mix(h ^ Mix((ulong)b + Golden3));
            return Mix(h ^ Mix(salt + Golden4));
        }
    }

    /// <summary>Uniform in [0, 1) from a hash, for one-off decisions that need no stream.</summary>
    public static double ToUnit(ulong hash) => (hash >> 11) * (1.0 / (1UL << 53));

    public ulong NextUInt64()
    {
        unchecked
        {
            _state += Golden;
            return Mix(_state);
        }
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => ToUnit(NextUInt64());

    /// <summary>Uniform in [min, max).</summary>
    public double Next(double min, double max) => min + (max - min) * NextDouble();

    /// <summary>Triangular in (-1, 1), peaked at 0: bounded noise that still looks natural.</summary>
    public double NextSymmetric() => NextDouble() + NextDouble() - 1.0;

    private static ulong Mix(ulong z)
    {
        unchecked
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            return z ^ (z >> 31);
        }
    }
}
