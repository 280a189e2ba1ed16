using System.Collections.Concurrent;
using SmartGrid.Domain.Grid;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Storage;

namespace SmartGrid.Node.Ingestion;

/// <summary>
/// Decides which meters may send readings: by default every meter, registering the ones not
/// seen before (the registry caches known meters, so the steady state does no I/O); with
/// <see cref="IngestionOptions.RequireRegisteredMeters"/> only registered meters, remembering
/// an unregistered one for a few seconds so a misconfigured meter cannot load the database.
/// </summary>
public sealed class MeterAdmission(MeterRegistry registry, IngestionOptions options, TimeProvider time)
{
    // Bounds the memory a client sending ever new unknown ids can take.
    private const int MaxRememberedUnknown = 100_000;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _unknownUntil = new(StringComparer.Ordinal);

    /// <summary>Registers the meters of <paramref name="readings"/> not registered yet; returns how many this call registered.</summary>
    public Task<int> ProvisionAsync(IEnumerable<TelemetryReading> readings, CancellationToken ct) =>
        registry.EnsureRegisteredAsync(
            readings.Select(r => (r.MeterId, string.IsNullOrEmpty(r.Region) ? Regions.Unassigned : r.Region)), ct);

    /// <summary>The meter ids among <paramref name="meterIds"/> that are not in the registry.</summary>
    public async Task<IReadOnlySet<string>> FindUnregisteredAsync(IEnumerable<string> meterIds, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var unknown = new HashSet<string>(StringComparer.Ordinal);
        foreach (var meterId in meterIds.Distinct(StringComparer.Ordinal))
        {
            if (_unknownUntil.TryGetValue(meterId, out var until))
            {
                if (until > now)
                {
                    unknown.Add(meterId);
                    continue;
                }
                _unknownUntil.TryRemove(meterId, out _);
            }
            if (await registry.IsRegisteredAsync(meterId, ct))
                continue;
            unknown.Add(meterId);
            if (options.UnknownMeterRecheck <= TimeSpan.Zero)
                continue;
            if (_unknownUntil.Count >= MaxRememberedUnknown)
                _unknownUntil.Clear();
            _unknownUntil[meterId] = now + options.UnknownMeterRecheck;
        }
        return unknown;
    }
}
