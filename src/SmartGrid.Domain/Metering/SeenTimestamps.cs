namespace SmartGrid.Domain.Metering;

/// <summary>
/// The timestamps one meter has accepted, for de-duplication: a set of exact UTC ticks, kept as a
/// ring of one bit per second instead of a hash set of longs (about 7 KiB for the 180 readings of a
/// 30-minute horizon at the seed's 10 s interval; the ring is 256 bytes).
/// <para>
/// A meter stamps its readings on a fixed cadence, so all its timestamps share one sub-second part,
/// the phase: a bit at second s stands for the instant s + phase, exactly. A timestamp with another
/// phase, or outside the seconds the ring covers, is kept exactly in a small sorted list instead, so
/// the set stays exact whatever the meter sends; only a meter off its cadence pays for it. The ring
/// slides forward only when told to forget (<see cref="ForgetBefore"/>), and then takes back what
/// the list holds that it now covers.
/// </para>
/// </summary>
internal sealed class SeenTimestamps
{
    /// <summary>Seconds the ring covers: the default 30-minute horizon plus the headroom.</summary>
    private const int Capacity = 2048;

    /// <summary>Seconds the ring reaches ahead of the newest reading it is positioned on.</summary>
    private const int Headroom = Capacity - 30 * 60;

    private const long TicksPerSecond = TimeSpan.TicksPerSecond;

    private ulong[]? _bits;
    /// <summary>First second the ring covers; it covers [origin, origin + Capacity).</summary>
    private long _origin;
    private long _phase;
    private long[] _others = [];
    private int _otherCount;

    public SeenTimestamps()
    {
    }

    /// <summary>A set holding <paramref name="ticks"/>, positioned on the newest of them.</summary>
    public SeenTimestamps(IReadOnlyCollection<long> ticks)
    {
        if (ticks.Count == 0) return;
        var newest = ticks.Max();
        Position(newest, Math.Max(Second(ticks.Min()), Second(newest) - Capacity + Headroom));
        foreach (var t in ticks) Add(t);
    }

    public int Count { get; private set; }

    public bool Contains(long ticks) =>
        InRing(ticks, out var bit) ? (_bits![bit >> 6] & (1UL << (bit & 63))) != 0 : Array.BinarySearch(_others, 0, _otherCount, ticks) >= 0;

    /// <summary>Adds <paramref name="ticks"/>; false if it was already there.</summary>
    public bool Add(long ticks)
    {
        if (_bits is null) Position(ticks, Second(ticks) - Capacity + Headroom);
        if (InRing(ticks, out var bit))
        {
            ref var word = ref _bits![bit >> 6];
            var mask = 1UL << (bit & 63);
            if ((word & mask) != 0) return false;
            word |= mask;
        }
        else
        {
            var at = Array.BinarySearch(_others, 0, _otherCount, ticks);
            if (at >= 0) return false;
            InsertOther(~at, ticks);
        }
        Count++;
        return true;
    }

    /// <summary>Forgets every timestamp before <paramref name="cutoffTicks"/>, and slides the ring up to it.</summary>
    public void ForgetBefore(long cutoffTicks)
    {
        if (_bits is null || cutoffTicks <= 0) return;
        var kept = LowerBound(cutoffTicks);
        if (kept > 0)
        {
            Array.Copy(_others, kept, _others, 0, _otherCount - kept);
            _otherCount -= kept;
            Count -= kept;
        }

        // The first second whose instant (second + phase) is not before the cutoff.
        var origin = (cutoffTicks - _phase + TicksPerSecond - 1) / TicksPerSecond;
        for (var second = _origin; second < origin && second < _origin + Capacity; second++)
        {
            var bit = (int)(second % Capacity);
            ref var word = ref _bits[bit >> 6];
            var mask = 1UL << (bit & 63);
            if ((word & mask) == 0) continue;
            word &= ~mask;
            Count--;
        }
        if (origin > _origin) _origin = origin;

        if (_otherCount == 0) return;
        // A ring left empty takes the phase of the newest exception: the meter's cadence moved.
        if (Count == _otherCount) Position(_others[_otherCount - 1], Math.Max(_origin, Second(_others[_otherCount - 1]) - Capacity + Headroom));
        TakeBackFromOthers();
    }

    /// <summary>Every timestamp held, in ascending order.</summary>
    public long[] ToSortedArray()
    {
        var all = new long[Count];
        var n = 0;
        if (_bits is not null)
            for (var second = _origin; second < _origin + Capacity; second++)
            {
                var bit = (int)(second % Capacity);
                if ((_bits[bit >> 6] & (1UL << (bit & 63))) != 0) all[n++] = second * TicksPerSecond + _phase;
            }
        Array.Copy(_others, 0, all, n, _otherCount);
        Array.Sort(all);
        return all;
    }

    // UTC ticks are never negative, so division rounds down.
    private static long Second(long ticks) => ticks / TicksPerSecond;

    private static long Phase(long ticks) => ticks % TicksPerSecond;

    private void Position(long phaseOf, long origin)
    {
        _bits ??= new ulong[Capacity / 64];
        _phase = Phase(phaseOf);
        _origin = Math.Max(0, origin);
    }

    private bool InRing(long ticks, out int bit)
    {
        bit = 0;
        if (_bits is null || Phase(ticks) != _phase) return false;
        var second = Second(ticks);
        if (second < _origin || second >= _origin + Capacity) return false;
        bit = (int)(second % Capacity);
        return true;
    }

    private void TakeBackFromOthers()
    {
        var kept = 0;
        for (var i = 0; i < _otherCount; i++)
        {
            var ticks = _others[i];
            if (InRing(ticks, out var bit)) _bits![bit >> 6] |= 1UL << (bit & 63);
            else _others[kept++] = ticks;
        }
        _otherCount = kept;
        if (kept == 0) _others = [];
    }

    private int LowerBound(long ticks)
    {
        var at = Array.BinarySearch(_others, 0, _otherCount, ticks);
        return at >= 0 ? at : ~at;
    }

    private void InsertOther(int at, long ticks)
    {
        if (_otherCount == _others.Length) Array.Resize(ref _others, Math.Max(4, _others.Length * 2));
        Array.Copy(_others, at, _others, at + 1, _otherCount - at);
        _others[at] = ticks;
        _otherCount++;
    }
}
