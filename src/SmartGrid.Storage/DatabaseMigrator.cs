using DbUp;
using DbUp.Engine.Output;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace SmartGrid.Storage;

/// <summary>
/// Creates the database if it is missing and applies the versioned scripts embedded under
/// Migrations/ (DbUp, journal table <c>schemaversions</c>). Idempotent; safe when several
/// processes start at once: the whole step runs under a session advisory lock keyed by the
/// database name and taken in the maintenance database, so it also covers CREATE DATABASE.
/// </summary>
public static class DatabaseMigrator
{
    private const string MaintenanceDatabase = "postgres";
    private static readonly string ScriptPrefix = typeof(DatabaseMigrator).Namespace + ".Migrations.";

    /// <summary>Names of the embedded migration scripts, in the order they apply.</summary>
    public static IReadOnlyList<string> ScriptNames { get; } =
        typeof(DatabaseMigrator).Assembly.GetManifestResourceNames()
            .Where(IsMigrationScript)
            .Order(StringComparer.Ordinal)
            .ToArray();

    /// <summary>Applies what is missing and returns the names of the scripts it applied (empty when up to date).</summary>
    /// <exception cref="InvalidOperationException">A script failed; its transaction was rolled back.</exception>
    public static IReadOnlyList<string> Migrate(string connectionString, ILogger? log = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(target.Database))
            throw new ArgumentException("The PostgreSQL connection string names no database.", nameof(connectionString));

        IUpgradeLog upgradeLog = log is null ? new NoOpUpgradeLog() : new MicrosoftUpgradeLog(log);
        var maintenance = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Database = MaintenanceDatabase,
            Pooling = false,
        };

        using var lockConnection = new NpgsqlConnection(maintenance.ConnectionString);
        lockConnection.Open();
        using (var take = Db.Command(lockConnection, null, "SELECT pg_advisory_lock($1, hashtext($2))", AdvisoryLocks.Migration, target.Database))
            take.ExecuteNonQuery();
        // The lock is released when lockConnection closes (it is not pooled), also on failure.

        EnsureDatabase.For.PostgresqlDatabase(connectionString, upgradeLog);

        var upgrader = DeployChanges.To
            .PostgresqlDatabase(connectionString)
            .WithScriptsEmbeddedInAssembly(typeof(DatabaseMigrator).Assembly, IsMigrationScript)
            .WithTransactionPerScript()
            // Scripts use $$ / $tag$ dollar quoting; DbUp's $name$ variables would rewrite it.
            .WithVariablesDisabled()
            .LogTo(upgradeLog)
            .Build();

        var result = upgrader.PerformUpgrade();
        if (!result.Successful)
        {
            throw new InvalidOperationException(
                $"Migration of database '{target.Database}' failed in script '{result.ErrorScript?.Name}'.",
                result.Error);
        }

        var applied = result.Scripts.Select(s => s.Name).ToArray();
        log?.DatabaseUpToDate(target.Database, applied.Length);
        return applied;
    }

    private static bool IsMigrationScript(string resourceName) =>
        resourceName.StartsWith(ScriptPrefix, StringComparison.Ordinal)
        && resourceName.EndsWith(".sql", StringComparison.OrdinalIgnoreCase);
}
