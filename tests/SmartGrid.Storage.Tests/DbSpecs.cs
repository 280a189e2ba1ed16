using Npgsql;
using NpgsqlTypes;

namespace SmartGrid.Storage.Tests;

public sealed class DbSpecs(PostgresDatabase db) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task Should_send_a_typed_null_with_its_type_where_the_statement_gives_it_none()
    {
        await using var connection = await db.Storage.DataSource.OpenConnectionAsync();

        await using (var typed = Db.Command(connection, null, "SELECT pg_typeof($1)::text, $1 IS NULL", Db.Typed(null, NpgsqlDbType.Time)))
        await using (var reader = await typed.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal("time without time zone", reader.GetString(0));
            Assert.True(reader.GetBoolean(1));
        }

        // Why Typed exists: the same statement with a bare null leaves PostgreSQL no type to give the parameter.
        await using var bare = Db.Command(connection, null, "SELECT pg_typeof($1)::text, $1 IS NULL", (object?)null);
        var error = await Assert.ThrowsAsync<PostgresException>(() => bare.ExecuteScalarAsync());
        Assert.Equal(PostgresErrorCodes.IndeterminateDatatype, error.SqlState);
    }

    [Fact]
    public async Task Should_send_a_typed_value_as_given_beside_bare_ones()
    {
        await using var connection = await db.Storage.DataSource.OpenConnectionAsync();
        var at = new DateTimeOffset(2026, 12, 7, 23, 30, 0, TimeSpan.FromHours(5.5));

        await using var command = Db.Command(connection, null, "SELECT $1::text || ' ' || $2::text, $3",
            "quiet from", Db.Typed(new TimeOnly(22, 15), NpgsqlDbType.Time), Db.Typed(at, NpgsqlDbType.TimestampTz));
        await using var reader = await command.ExecuteReaderAsync();

        Assert.True(await reader.ReadAsync());
        Assert.Equal("quiet from 22:15:00", reader.GetString(0));
        Assert.Equal(at, reader.GetFieldValue<DateTimeOffset>(1));
    }

    [Fact]
    public async Task Should_run_a_batch_of_statements_each_with_its_own_values()
    {
        await using var connection = await db.Storage.DataSource.OpenConnectionAsync();
        await Db.ExecuteAsync(connection, null, "CREATE TEMP TABLE quiet_hours (user_name text PRIMARY KEY, starts time)");

        await using (var batch = Db.Batch(connection, null,
            ("INSERT INTO quiet_hours VALUES ($1, $2)", ["ana", Db.Typed(null, NpgsqlDbType.Time)]),
            ("INSERT INTO quiet_hours VALUES ($1, $2)", ["ben", new TimeOnly(22, 0)])))
            Assert.Equal(2, await batch.ExecuteNonQueryAsync());

        await using var command = Db.Command(connection, null,
            "SELECT string_agg(user_name || '=' || COALESCE(starts::text, 'none'), ',' ORDER BY user_name) FROM quiet_hours");
        Assert.Equal("ana=none,ben=22:00:00", await command.ExecuteScalarAsync());
    }
}
