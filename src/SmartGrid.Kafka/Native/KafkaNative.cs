using System.Reflection;
using System.Runtime.InteropServices;

namespace SmartGrid.Kafka;

/// <summary>
/// Makes every librdkafka user in the process (Confluent.Kafka clients and our mock-cluster P/Invokes)
/// bind to one native library that loads on this machine.
/// </summary>
/// <remarks>
/// The default <c>runtimes/linux-x64/native/librdkafka.so</c> of librdkafka.redist needs libsasl2.so.3,
/// which Debian 12 does not ship; the <c>centos8-librdkafka.so</c> next to it only needs glibc.
/// Confluent's own <c>Library.Load(path)</c> cannot be used (it dlopens a plain "libdl", absent here),
/// so a DllImport resolver is installed on Confluent.Kafka's assembly and on ours instead.
/// Call <see cref="EnsureLoaded"/> before the first Confluent.Kafka call: the settings and factories
/// of this assembly do it for you. Set <c>SMARTGRID_LIBRDKAFKA</c> to a full path to override.
/// </remarks>
public static class KafkaNative
{
    private const string PreferredLinuxX64Library = "centos8-librdkafka.so";
    private static readonly object Gate = new();
    private static bool _done;
    private static IntPtr _handle;

    /// <summary>The librdkafka file the resolver hands out, or null when the platform default is used.</summary>
    public static string? LibraryPath { get; private set; }

    /// <summary>Idempotent and thread-safe; cheap after the first call.</summary>
    public static void EnsureLoaded()
    {
        if (Volatile.Read(ref _done))
            return;
        lock (Gate)
        {
            if (_done)
                return;
            var path = FindLibrary();
            if (path is not null)
            {
                try
                {
                    _handle = NativeLibrary.Load(path);
                }
                catch (Exception ex)
                {
                    throw new DllNotFoundException($"librdkafka could not be loaded from '{path}': {ex.Message}", ex);
                }
                LibraryPath = path;
                Install(typeof(Confluent.Kafka.Library).Assembly);
                Install(typeof(KafkaNative).Assembly);
            }
            Volatile.Write(ref _done, true);
        }
    }

    private static void Install(Assembly assembly)
    {
        try
        {
            NativeLibrary.SetDllImportResolver(assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // Someone already installed a resolver on this assembly; theirs wins.
        }
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName.Contains("rdkafka", StringComparison.OrdinalIgnoreCase) ? _handle : IntPtr.Zero;

    private static string? FindLibrary()
    {
        var overridePath = Environment.GetEnvironmentVariable("SMARTGRID_LIBRDKAFKA");
        if (!string.IsNullOrWhiteSpace(overridePath))
            return File.Exists(overridePath)
                ? overridePath
                : throw new FileNotFoundException("SMARTGRID_LIBRDKAFKA points to a missing file", overridePath);

        // Only linux-x64 on glibc needs help; elsewhere Confluent's default probing works.
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64
            || File.Exists("/etc/alpine-release"))
            return null;

        var relative = Path.Combine("runtimes", "linux-x64", "native", PreferredLinuxX64Library);
        var baseDirs = new[]
        {
            AppContext.BaseDirectory,
            Path.GetDirectoryName(typeof(Confluent.Kafka.Library).Assembly.Location),
            Path.GetDirectoryName(typeof(KafkaNative).Assembly.Location),
        };
        foreach (var dir in baseDirs)
        {
            if (string.IsNullOrEmpty(dir))
                continue;
            var candidate = Path.Combine(dir, relative);
            if (File.Exists(candidate))
                return candidate;
        }

        // Not copied to the output (e.g. a trimmed publish): fall back to the NuGet package cache.
        var nugetRoot = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (string.IsNullOrEmpty(nugetRoot))
            nugetRoot = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var redist = Path.Combine(nugetRoot, "librdkafka.redist");
        if (!Directory.Exists(redist))
            return null;
        var wanted = typeof(Confluent.Kafka.Library).Assembly.GetName().Version;
        return Directory.GetDirectories(redist)
            .Select(d => (Dir: d, Version: Version.TryParse(Path.GetFileName(d), out var v) ? v : null))
            .Where(x => x.Version is not null)
            // The redist version that matches Confluent.Kafka's first, then the newest.
            .OrderByDescending(x => wanted is not null && x.Version!.Major == wanted.Major && x.Version.Minor == wanted.Minor)
            .ThenByDescending(x => x.Version)
            .Select(x => Path.Combine(x.Dir, relative))
            .FirstOrDefault(File.Exists);
    }
}
