namespace SmartGrid.Storage.Tests;

public sealed class MeterRegistrySpecs(PostgresDatabase db) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task Should_auto_provision_a_meter_once_and_keep_its_first_region()
    {
        var registry = new MeterRegistry(db.Storage.DataSource);

        var first = await registry.EnsureRegisteredAsync([("MTR-R1", "Nashik"), ("MTR-R2", "Pune-West"), ("MTR-R1", "Pune-West")]);
        var again = await new MeterRegistry(db.Storage.DataSource).EnsureRegisteredAsync([("MTR-R1", "Mumbai-North")]);

        Assert.Equal(2, first);
        Assert.Equal(0, again);
        Assert.Equal("Nashik", await new MeterRegistry(db.Storage.DataSource).GetRegionAsync("MTR-R1"));
        Assert.True(await registry.IsRegisteredAsync("MTR-R2"));
        Assert.False(await registry.IsRegisteredAsync("MTR-NOPE"));
        Assert.Null(await registry.GetRegionAsync("MTR-NOPE"));
        Assert.True(await db.ScalarAsync<bool>("SELECT auto_provisioned AND user_id IS NULL FROM meters WHERE meter_id = 'MTR-R1'"));
    }

    [Fact]
    public async Task Should_register_each_meter_exactly_once_when_nodes_see_it_concurrently()
    {
        var meters = Enumerable.Range(0, 300).Select(i => ($"MTR-C{i:D4}", "Pune-West")).ToArray();

        // Eight nodes (separate registries, separate caches) see overlapping batches at the same time.
        var registered = await Task.WhenAll(Enumerable.Range(0, 8).Select(node => Task.Run(async () =>
        {
            var registry = new MeterRegistry(db.Storage.DataSource);
            var total = 0;
            foreach (var chunk in meters.Skip(node * 10).Concat(meters.Take(node * 10)).Chunk(50))
                total += await registry.EnsureRegisteredAsync(chunk);
            return total;
        })));

        Assert.Equal(300, registered.Sum());
        Assert.Equal(300L, await db.ScalarAsync<long>("SELECT count(*) FROM meters WHERE meter_id LIKE 'MTR-C%'"));
    }

    [Fact]
    public async Task Should_not_touch_the_database_for_meters_it_already_knows()
    {
        var registry = new MeterRegistry(db.Storage.DataSource);
        Assert.Equal(1, await registry.EnsureRegisteredAsync([("MTR-K1", "Nashik")]));

        // Remove the row behind the registry's back: a cached meter must not be looked up again.
        await db.ExecuteAsync("DELETE FROM meters WHERE meter_id = 'MTR-K1'");

        Assert.Equal(0, await registry.EnsureRegisteredAsync([("MTR-K1", "Nashik")]));
        Assert.Equal("Nashik", await registry.GetRegionAsync("MTR-K1"));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM meters WHERE meter_id = 'MTR-K1'"));
        Assert.Equal(1, await new MeterRegistry(db.Storage.DataSource).EnsureRegisteredAsync([("MTR-K1", "Nashik")]));
    }
}
