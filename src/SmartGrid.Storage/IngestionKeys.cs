using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace SmartGrid.Storage;

/// <summary>
/// An ingestion API key as listed (never its secret): <see cref="Regions"/> null means every
/// region; <see cref="CanProvision"/> lets it register meters it sends for the first time.
/// </summary>
public sealed record IngestionKey(
    Guid Id, string Name, string Prefix, IReadOnlyList<string>? Regions, bool CanProvision, string CreatedBy,
    DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt)
{
    public bool IsActive => RevokedAt is null;

    /// <summary>Whether the key may write readings of <paramref name="region"/> (a canonical region name).</summary>
    public bool Covers(string region) => Regions is null || Regions.Contains(region, StringComparer.OrdinalIgnoreCase);
}

/// <summary>
/// The <c>ingestion_api_keys</c> table and the cache ingestion authenticates from. A secret is
/// <c>sgk_</c> + 43 base64url characters (256 random bits); only its SHA-256 is stored, and a
/// presented secret is found by its public prefix and compared by hash in constant time.
/// The cache holds every active key and is reloaded every <see cref="RefreshInterval"/> (so a
/// revocation on another node is honoured within it; one made through this instance at once),
/// and at most once a second on an unknown prefix (a key just created elsewhere), which bounds
/// what a client guessing keys can cost the database. "Last used" is written in the background,
/// at most once per <see cref="LastUsedInterval"/> per key.
/// </summary>
public sealed class IngestionKeys : IDisposable
{
    public const string SecretPrefix = "sgk_";
    public static readonly TimeSpan DefaultRefreshInterval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan DefaultLastUsedInterval = TimeSpan.FromSeconds(30);

    // "sgk_" and 8 characters: 48 random bits to tell keys apart in a list, 208 stay secret.
    private const int PrefixLength = 12;
    private const int SecretBytes = 32;
    private static readonly TimeSpan MissReloadEvery = TimeSpan.FromSeconds(1);
    private const string Columns = "id, name, prefix, regions, can_provision, created_by, created_at, last_used_at, revoked_at";

    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _loading = new(1, 1);
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _lastUsedWritten = new();
    private volatile Cache _cache = Cache.Empty;

    public IngestionKeys(NpgsqlDataSource dataSource, TimeProvider? time = null, TimeSpan? refreshInterval = null, TimeSpan? lastUsedInterval = null)
    {
        _dataSource = dataSource;
        _time = time ?? TimeProvider.System;
        RefreshInterval = refreshInterval ?? DefaultRefreshInterval;
        LastUsedInterval = lastUsedInterval ?? DefaultLastUsedInterval;
    }

    public TimeSpan RefreshInterval { get; }
    public TimeSpan LastUsedInterval { get; }

    /// <summary>
    /// Raised with the exception when the database could not be read or written in the background
    /// (a reload while the cache goes on; "last used", retried at the key's next use).
    /// </summary>
    public event Action<Exception>? DatabaseFailed;

    /// <summary>Creates a key; the secret is returned only here.</summary>
    public async Task<(IngestionKey Key, string Secret)> CreateAsync(string name, IReadOnlyList<string>? regions, bool canProvision,
        string createdBy, CancellationToken ct = default)
    {
        var secret = SecretPrefix + Base64Url(RandomNumberGenerator.GetBytes(SecretBytes));
        await using var cmd = Db.Command(_dataSource,
            $"""
             INSERT INTO ingestion_api_keys (id, name, prefix, secret_sha256, regions, can_provision, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {Columns}
             """,
            Guid.CreateVersion7(), name, secret[..PrefixLength], Hash(secret), Db.Array(regions?.ToArray(), NpgsqlDbType.Text), canProvision, createdBy);
        IngestionKey key;
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            key = Read(reader);
        }
        await ReloadAsync(ct, force: true);
        return (key, secret);
    }

    /// <summary>Every key, newest first, revoked ones included.</summary>
    public async Task<IReadOnlyList<IngestionKey>> ListAsync(CancellationToken ct = default)
    {
        await using var cmd = Db.Command(_dataSource, $"SELECT {Columns} FROM ingestion_api_keys ORDER BY created_at DESC, id DESC");
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var keys = new List<IngestionKey>();
        while (await reader.ReadAsync(ct))
            keys.Add(Read(reader));
        return keys;
    }

    /// <summary>Revokes a key; null when there is no such key, the key as it was when it is revoked already.</summary>
    public async Task<(IngestionKey? Key, bool Revoked)> RevokeAsync(Guid id, string revokedBy, CancellationToken ct = default)
    {
        await using var cmd = Db.Command(_dataSource,
            $"""
             WITH revoked AS (
                 UPDATE ingestion_api_keys SET revoked_at = now(), revoked_by = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING {Columns}
             )
             SELECT {Columns}, true FROM revoked
             UNION ALL
             SELECT {Columns}, false FROM ingestion_api_keys WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM revoked)
             """,
            id, revokedBy);
        (IngestionKey? Key, bool Revoked) result = (null, false);
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            if (await reader.ReadAsync(ct))
                result = (Read(reader), reader.GetBoolean(9));
        }
        if (result.Revoked)
            await ReloadAsync(ct, force: true);
        return result;
    }

    /// <summary>
    /// The active key whose secret is <paramref name="secret"/>, or null. Answers from the cache;
    /// touches the database only to reload it (see the type's remarks).
    /// </summary>
    public async ValueTask<IngestionKey?> AuthenticateAsync(string secret, CancellationToken ct = default)
    {
        if (secret.Length <= PrefixLength || !secret.StartsWith(SecretPrefix, StringComparison.Ordinal))
            return null;
        var now = _time.GetUtcNow();
        var cache = _cache;
        if (now - cache.LoadedAt >= RefreshInterval)
            cache = await ReloadOrKeepAsync(cache, now, ct);
        var prefix = secret[..PrefixLength];
        if (!cache.ByPrefix.ContainsKey(prefix) && now - cache.LoadedAt >= MissReloadEvery)
            cache = await ReloadOrKeepAsync(cache, now, ct);
        if (!cache.ByPrefix.TryGetValue(prefix, out var candidates))
            return null;
        var hash = Hash(secret);
        IngestionKey? found = null;
        foreach (var (key, stored) in candidates)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, stored))
                found = key;
        }
        if (found is not null)
            NoteUse(found.Id, now);
        return found;
    }

    /// <summary>
    /// Reloads; while PostgreSQL cannot answer, keeps the keys last loaded (ingestion itself needs
    /// no database in its steady state) and tries again a second later. A revocation made meanwhile
    /// is honoured once the database answers again. A cache never loaded cannot vouch for anyone: it throws.
    /// </summary>
    private async Task<Cache> ReloadOrKeepAsync(Cache cache, DateTimeOffset now, CancellationToken ct)
    {
        try
        {
            return await ReloadAsync(ct);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException && cache.LoadedAt > DateTimeOffset.MinValue)
        {
            DatabaseFailed?.Invoke(e);
            return _cache = cache with { LoadedAt = now - RefreshInterval + MissReloadEvery };
        }
    }

    private void NoteUse(Guid id, DateTimeOffset now)
    {
        if (_lastUsedWritten.TryGetValue(id, out var written) && now - written < LastUsedInterval)
            return;
        // Claims the write for this interval; concurrent requests of the same key skip it.
        if (written == default ? !_lastUsedWritten.TryAdd(id, now) : !_lastUsedWritten.TryUpdate(id, now, written))
            return;
        _ = WriteLastUsedAsync(id, now);
    }

    private async Task WriteLastUsedAsync(Guid id, DateTimeOffset at)
    {
        try
        {
            await using var cmd = Db.Command(_dataSource,
                "UPDATE ingestion_api_keys SET last_used_at = greatest(last_used_at, $2) WHERE id = $1", id, at);
            await cmd.ExecuteNonQueryAsync();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or ObjectDisposedException)
        {
            _lastUsedWritten.TryRemove(id, out _);
            DatabaseFailed?.Invoke(e);
        }
    }

    /// <summary><paramref name="force"/>: after a change, when a load under way may have read the table before it.</summary>
    private async Task<Cache> ReloadAsync(CancellationToken ct, bool force = false)
    {
        var before = _cache;
        await _loading.WaitAsync(ct);
        try
        {
            // Requests that queued behind a load use its result.
            if (!force && !ReferenceEquals(before, _cache))
                return _cache;
            var keys = new List<(IngestionKey, byte[])>();
            await using (var cmd = Db.Command(_dataSource, $"SELECT {Columns}, secret_sha256 FROM ingestion_api_keys WHERE revoked_at IS NULL"))
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                    keys.Add((Read(reader), reader.GetFieldValue<byte[]>(9)));
            }
            return _cache = new Cache(
                keys.GroupBy(k => k.Item1.Prefix, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal),
                _time.GetUtcNow());
        }
        finally
        {
            _loading.Release();
        }
    }

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static IngestionKey Read(NpgsqlDataReader reader) => new(
        reader.GetGuid(0), reader.GetString(1), reader.GetString(2),
        reader.IsDBNull(3) ? null : reader.GetFieldValue<string[]>(3), reader.GetBoolean(4), reader.GetString(5),
        reader.GetFieldValue<DateTimeOffset>(6),
        reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7),
        reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8));

    private sealed record Cache(FrozenDictionary<string, (IngestionKey Key, byte[] Hash)[]> ByPrefix, DateTimeOffset LoadedAt)
    {
        public static Cache Empty { get; } = new(FrozenDictionary<string, (IngestionKey, byte[])[]>.Empty, DateTimeOffset.MinValue);
    }

    public void Dispose() => _loading.Dispose();
}
