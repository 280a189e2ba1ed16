using System.Runtime.Serialization;
using SmartGrid.Domain.Metering;
using SmartGrid.Domain.Regional;
using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Actors.Serialization;

/// <summary>
/// The compact binary forms (v2) of what a region persists per meter: <see cref="MeterWindowsReceived"/>, one projection
/// batch's windows of the region, and <see cref="RegionSnapshot"/>, every meter's window for the retention. Both grow with
/// the meters of the region (a quarter of a million each in the million-meter bench): in JSON a window took about 600
/// bytes and its text doubles most of a recovery's CPU, so a region's recovery outgrew its 15 s event timeout. Here a
/// window is its meter id, start, revision and <see cref="WindowSumsFormat"/>, about 110 bytes, and the region is written
/// once (a window of another region says so with a flag). Both still read their JSON v1.
/// </summary>
internal static class RegionFormat
{
    private const byte Version = 2;

    public static byte[] Write(MeterWindowsReceived e) =>
        Encode(64 + e.Windows.Count * 112, e.Region, w =>
        {
            w.Write(e.ReceivedAt.UtcTicks);
            WriteWindows(w, e.Region, e.Windows);
        });

    public static MeterWindowsReceived ReadReceived(byte[] bytes)
    {
        using var r = Reader(bytes, "region meter windows");
        var region = r.ReadString();
        var receivedAt = Utc(r.ReadInt64());
        return new MeterWindowsReceived(region, ReadWindows(r, region), receivedAt);
    }

    public static byte[] Write(RegionSnapshot s) =>
        Encode(128 + s.Windows.Sum(x => 64 + x.Meters.Length * 112), s.Region, w =>
        {
            w.Write7BitEncodedInt64(s.LateWindowsDropped);
            w.Write(s.LastReceivedAt.UtcTicks);
            w.Write7BitEncodedInt(s.Watermarks.Length);
            foreach (var mark in s.Watermarks)
            {
                w.Write((byte)mark.Size);
                w.Write(mark.End.UtcTicks);
            }
            w.Write7BitEncodedInt(s.Windows.Length);
            foreach (var slot in s.Windows)
            {
                w.Write((byte)slot.Size);
                w.Write(slot.Start.UtcTicks);
                w.Write(slot.End.UtcTicks);
                w.Write7BitEncodedInt(slot.Revision);
                w.Write(slot.Dirty);
                w.Write(slot.TouchedAt.UtcTicks);
                WriteWindows(w, s.Region, slot.Meters);
            }
        });

    public static RegionSnapshot ReadSnapshot(byte[] bytes)
    {
        using var r = Reader(bytes, "region snapshot");
        var region = r.ReadString();
        var lateDropped = r.Read7BitEncodedInt64();
        var lastReceivedAt = Utc(r.ReadInt64());
        var marks = new RegionSnapshot.Mark[r.Read7BitEncodedInt()];
        for (var i = 0; i < marks.Length; i++)
            marks[i] = new RegionSnapshot.Mark((WindowSize)r.ReadByte(), Utc(r.ReadInt64()));
        var windows = new RegionSnapshot.Window[r.Read7BitEncodedInt()];
        for (var i = 0; i < windows.Length; i++)
        {
            var size = (WindowSize)r.ReadByte();
            var start = Utc(r.ReadInt64());
            var end = Utc(r.ReadInt64());
            var revision = r.Read7BitEncodedInt();
            var dirty = r.ReadBoolean();
            var touchedAt = Utc(r.ReadInt64());
            windows[i] = new RegionSnapshot.Window(size, start, end, revision, dirty, touchedAt, ReadWindows(r, region));
        }
        return new RegionSnapshot(region, lateDropped, lastReceivedAt, marks, windows);
    }

    /// <summary>What both forms open with, the version and the region, then <paramref name="body"/>; <paramref name="capacity"/> is a guess of the size.</summary>
    private static byte[] Encode(int capacity, string region, Action<BinaryWriter> body)
    {
        using var buffer = new MemoryStream(capacity);
        using (var w = new BinaryWriter(buffer))
        {
            w.Write(Version);
            w.Write(region);
            body(w);
        }
        return buffer.ToArray();
    }

    private static void WriteWindows(BinaryWriter w, string region, IReadOnlyCollection<EmittedWindow> windows)
    {
        w.Write7BitEncodedInt(windows.Count);
        foreach (var window in windows)
        {
            var a = window.Aggregate;
            w.Write(a.MeterId);
            var ownRegion = a.Region != region;
            w.Write(ownRegion);
            if (ownRegion) w.Write(a.Region);
            w.Write((byte)a.Size);
            w.Write(a.WindowStart.UtcTicks);
            w.Write7BitEncodedInt(window.Revision);
            WindowSumsFormat.Write(w, a);
        }
    }

    private static EmittedWindow[] ReadWindows(BinaryReader r, string region)
    {
        var windows = new EmittedWindow[r.Read7BitEncodedInt()];
        for (var i = 0; i < windows.Length; i++)
        {
            var meterId = r.ReadString();
            var windowRegion = r.ReadBoolean() ? r.ReadString() : region;
            var size = (WindowSize)r.ReadByte();
            var start = Utc(r.ReadInt64());
            var revision = r.Read7BitEncodedInt();
            windows[i] = new EmittedWindow(WindowSumsFormat.Read(r, meterId, windowRegion, size, start), revision);
        }
        return windows;
    }

    private static BinaryReader Reader(byte[] bytes, string what)
    {
        var r = new BinaryReader(new MemoryStream(bytes, writable: false));
        if (r.ReadByte() is var version and not Version)
        {
            r.Dispose();
            throw new SerializationException($"{what}: unknown format version {version}");
        }
        return r;
    }

    private static DateTimeOffset Utc(long ticks) => new(ticks, TimeSpan.Zero);
}
