using System.Collections.Concurrent;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Storage;

namespace SmartGrid.Ingestion;

/// <summary>The readings of a batch that may be published (with the registry's region), where they were in the request, and how many meters were registered for them.</summary>
public sealed record Admitted(List<TelemetryReading> Readings, List<int> Indexes, int Provisioned);

/// <summary>
/// Decides which readings may be published, against the operator's data: the region of a
/// reading is its meter's registered one (a reading naming another region, an unknown or a
/// retired one is rejected on its field <c>region</c>; one naming none takes the registry's), and a
/// key writes only the regions it is scoped to (403 for the record). A meter not registered yet
/// is registered on first sight only when <see cref="IngestionOptions.RequireRegisteredMeters"/>
/// is off, into the known region the reading names, and (with a key) only by a key allowed to
/// provision. Regions and known meters are cached, so the steady state does no I/O; a meter found
/// unregistered is not looked up again for a few seconds, so a misconfigured or hostile client
/// cannot load the database.
/// </summary>
public sealed class MeterAdmission(MeterRegistry registry, RegionCatalog regions, IngestionOptions options, TimeProvider time)
{
    // Bounds the memory a client sending ever new unknown ids can take.
    private const int MaxRememberedUnknown = 100_000;
    private const string RegionField = "region";
    private const string MeterField = "meter_id";
    private readonly ConcurrentDictionary<string, DateTimeOffset> _unknownUntil = new(StringComparer.Ordinal);

    /// <summary>
    /// Admits <paramref name="readings"/> (found at <paramref name="indexes"/> of the request) for
    /// <paramref name="key"/> (null: no key was sent and none is required); adds a result for each
    /// one refused to <paramref name="refused"/>.
    /// </summary>
    public async Task<Admitted> AdmitAsync(IReadOnlyList<TelemetryReading> readings, IReadOnlyList<int> indexes, IngestionKey? key,
        List<RecordResult> refused, CancellationToken ct)
    {
        var snapshot = await regions.GetAsync(ct);
        var mayProvision = !options.RequireRegisteredMeters && (key?.CanProvision ?? !options.RequireApiKey);
        var registered = await registry.GetRegionsAsync(MetersToLookUp(readings, mayProvision), ct);

        var admitted = new List<(TelemetryReading Reading, int Index)>(readings.Count);
        List<(string MeterId, string Region)>? toRegister = null;
        for (var i = 0; i < readings.Count; i++)
        {
            var reading = readings[i];
            var home = registered.GetValueOrDefault(reading.MeterId);
            var (region, error) = snapshot.Resolve(reading.MeterId, reading.Region, home);
            var field = RegionField;
            if (home is null && !mayProvision && (error is null || reading.Region is null))
            {
                (field, error) = (MeterField, key is { CanProvision: false }
                    ? $"meter '{reading.MeterId}' is not registered, and this key may not register meters"
                    : $"meter '{reading.MeterId}' is not registered");
                Remember(reading.MeterId);
            }
            else if (home is null && error is null && (key is null || key.Covers(region!)))
                (toRegister ??= []).Add((reading.MeterId, region!));

            if (error is not null)
                refused.Add(new RecordResult(indexes[i], RecordResult.RejectedStatus, [new FieldError(field, error)]));
            else if (key is not null && !key.Covers(region!))
                refused.Add(RecordResult.Forbidden(indexes[i], RegionField, $"key '{key.Prefix}…' may not write region '{region}'"));
            else
                admitted.Add((reading with { Region = region }, indexes[i]));
        }

        var provisioned = 0;
        if (toRegister is not null)
        {
            provisioned = await registry.EnsureRegisteredAsync(toRegister, ct);
            // Two first sightings of one meter with different regions (in this batch, or on two
            // nodes at once): the registry kept one, and the others' readings are refused.
            var stored = await registry.GetRegionsAsync(toRegister.Select(m => m.MeterId), ct);
            admitted.RemoveAll(a =>
            {
                if (!stored.TryGetValue(a.Reading.MeterId, out var home) || string.Equals(home, a.Reading.Region, StringComparison.Ordinal))
                    return false;
                refused.Add(new RecordResult(a.Index, RecordResult.RejectedStatus,
                    [new FieldError(RegionField, $"meter '{a.Reading.MeterId}' is registered in region '{home}', not '{a.Reading.Region}'")]));
                return true;
            });
        }
        return new Admitted(admitted.Select(a => a.Reading).ToList(), admitted.Select(a => a.Index).ToList(), provisioned);
    }

    /// <summary>The meters to look up: all of them, but those found unregistered moments ago only when they may be registered now.</summary>
    private IEnumerable<string> MetersToLookUp(IReadOnlyList<TelemetryReading> readings, bool mayProvision)
    {
        var now = time.GetUtcNow();
        foreach (var reading in readings)
        {
            if (!mayProvision && _unknownUntil.TryGetValue(reading.MeterId, out var until))
            {
                if (until > now)
                    continue;
                _unknownUntil.TryRemove(reading.MeterId, out _);
            }
            yield return reading.MeterId;
        }
    }

    private void Remember(string meterId)
    {
        if (options.UnknownMeterRecheck <= TimeSpan.Zero)
            return;
        if (_unknownUntil.Count >= MaxRememberedUnknown)
            _unknownUntil.Clear();
        _unknownUntil[meterId] = time.GetUtcNow() + options.UnknownMeterRecheck;
    }
}
