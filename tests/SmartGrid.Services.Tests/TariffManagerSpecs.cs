using System.Text.Json;
using Akka.Actor;
using Confluent.Kafka;
using SmartGrid.Contracts;
using SmartGrid.Contracts.Tariffs;
using SmartGrid.Domain.Grid;
using SmartGrid.Services.Common;
using SmartGrid.Services.Tariffs;
using Xunit.Abstractions;

namespace SmartGrid.Services.Tests;

public sealed class TariffManagerSpecs(ServicesFixture fixture, ITestOutputHelper output) : ServiceSpec(fixture, output)
{
    private const string RegionalTopic = "regional_aggregates";
    private const string OverridesTopic = "tariff_overrides";
    private static readonly DateTimeOffset T0 = new(2024, 1, 15, 14, 0, 0, TimeSpan.Zero);
    private readonly string _updates = $"tariff_updates-{Guid.NewGuid():N}";

    private IActorRef Start(TariffSettings? settings = null, TimeProvider? time = null)
    {
        Fixture.Broker.CreateTopic(_updates, 3);
        settings ??= new TariffSettings();
        settings = settings with { TariffUpdatesTopic = _updates };
        return Sys.ActorOf(TariffManager.Props(settings, Db, Fixture.Redis, Keys, Fixture.Producer, time));
    }

    private static RegionalAggregateMessage Window(string region, DateTimeOffset start, double load, int revision = 1, string size = "15m") => new()
    {
        Region = region, WindowSize = size, WindowStart = start,
        WindowEnd = start + (size == "15m" ? TimeSpan.FromMinutes(15) : TimeSpan.FromMinutes(1)),
        MeterCount = 10, TotalPowerKw = load * 30, CapacityKw = 3000, LoadPercentage = load, Revision = revision,
    };

    private List<TariffUpdateMessage> Updates() =>
        ReadAll(_updates).Select(r => WireJson.Deserialize<TariffUpdateMessage>(r.Message.Value)).ToList();

    private Task<long> ChangeRows(string region) =>
        ScalarAsync<long>("SELECT count(*) FROM tariffs WHERE region = $1 AND reason <> 'base'", region);

    [Fact]
    public async Task Should_publish_one_tariff_row_and_one_update_when_the_load_enters_a_higher_tier()
    {
        var manager = Start();

        Assert.Equal(RecordHandled.Ignored, await Deliver(manager, RegionalTopic, Window("Pune-West", T0, 95, size: "1m")));
        Assert.Equal("changed", (await Deliver(manager, RegionalTopic, Window("Pune-West", T0, 82))).Outcome);

        Assert.Equal(1, await ChangeRows("Pune-West"));
        Assert.Equal(9.60m, await ScalarAsync<decimal>("SELECT price_per_kwh FROM tariffs WHERE region = 'Pune-West' AND reason = 'load-based'"));
        Assert.Equal("system", await ScalarAsync<string>("SELECT triggered_by FROM tariffs WHERE region = 'Pune-West' AND reason = 'load-based'"));
        Assert.Equal(1, await ScalarAsync<int>("SELECT source_revision FROM tariffs WHERE region = 'Pune-West' AND reason = 'load-based'"));

        var cached = WireJson.Deserialize<CachedTariff>((await Redis.StringGetAsync(Keys.Tariff("Pune-West"))).ToString());
        Assert.Equal(9.60m, cached.PricePerKwh);
        Assert.InRange((await Redis.KeyTimeToLiveAsync(Keys.Tariff("Pune-West")))!.Value, TimeSpan.FromHours(23), TimeSpan.FromHours(24));

        var update = Assert.Single(Updates());
        Assert.Equal(("Pune-West", 8.00m, 9.60m, "load-based", "system"),
            (update.Region, update.OldPrice!.Value, update.NewPrice, update.Reason, update.TriggeredBy));
        Assert.Equal(T0.AddMinutes(15), update.EffectiveFrom);
        Assert.Equal(cached.TariffId, update.TariffId);
    }

    [Fact]
    public async Task Should_not_publish_a_change_of_two_percent_or_less()
    {
        TariffTier[] tiers =
        [
            new("normal", double.NegativeInfinity, true, 0m),
            new("slight", 50, true, 2m),
            new("moderate", 70, true, 10m),
        ];
        var manager = Start(new TariffSettings { Tiers = tiers });

        Assert.Equal("unchanged", (await Deliver(manager, RegionalTopic, Window("Nashik", T0, 55))).Outcome);
        Assert.Equal(0, await ChangeRows("Nashik"));

        // The same manager does publish a larger move, so the silence above was the threshold.
        Assert.Equal("changed", (await Deliver(manager, RegionalTopic, Window("Nashik", T0.AddMinutes(15), 75))).Outcome);
        var update = Assert.Single(Updates());
        Assert.Equal((8.00m, 8.80m), (update.OldPrice!.Value, update.NewPrice));
        Assert.Equal(1, await ChangeRows("Nashik"));
    }

    [Fact]
    public async Task Should_not_publish_again_for_a_replayed_aggregate()
    {
        var manager = Start();
        await Deliver(manager, RegionalTopic, Window("Mumbai-North", T0, 82));
        await Deliver(manager, RegionalTopic, Window("Mumbai-North", T0.AddMinutes(15), 30));

        // Redelivery of both windows (a consumer restart before the commit), then an older window's replay.
        Assert.Equal(RecordHandled.Duplicate, await Deliver(manager, RegionalTopic, Window("Mumbai-North", T0, 82)));
        Assert.Equal(RecordHandled.Duplicate, await Deliver(manager, RegionalTopic, Window("Mumbai-North", T0.AddMinutes(15), 30)));
        Assert.Equal(RecordHandled.Duplicate, await Deliver(manager, RegionalTopic, Window("Mumbai-North", T0, 95, revision: 2)));

        Assert.Equal(2, await ChangeRows("Mumbai-North"));
        Assert.Equal([9.60m, 8.00m], Updates().Select(u => u.NewPrice));
        Assert.Equal(1, await ScalarAsync<int>("SELECT last_revision FROM tariff_region_state WHERE region = 'Mumbai-North'"));
    }

    [Fact]
    public async Task Should_apply_a_newer_revision_of_the_same_window()
    {
        var manager = Start();
        await Deliver(manager, RegionalTopic, Window("Pune-West", T0, 50));
        Assert.Equal("changed", (await Deliver(manager, RegionalTopic, Window("Pune-West", T0, 92, revision: 2))).Outcome);
        Assert.Equal(10.80m, Assert.Single(Updates()).NewPrice);
    }

    [Fact]
    public async Task Should_let_an_active_override_win_until_it_expires()
    {
        var clock = new ManualTime(T0.AddMinutes(20));
        var manager = Start(time: clock);
        await Deliver(manager, RegionalTopic, Window("Mumbai-Central", T0, 82));

        var overrideId = Guid.NewGuid();
        Assert.Equal("changed", (await Deliver(manager, OverridesTopic, new TariffOverrideMessage
        {
            OverrideId = overrideId, Region = "Mumbai-Central", PricePerKwh = 12.00m, ValidFrom = clock.Now.AddMinutes(-1),
            ValidTo = clock.Now.AddHours(1), Reason = "heatwave", CreatedBy = "admin-7",
        })).Outcome);

        // Load-based would be +35 % now, but the override is in force.
        Assert.Equal("unchanged", (await Deliver(manager, RegionalTopic, Window("Mumbai-Central", T0.AddMinutes(15), 95))).Outcome);
        // A redelivered override changes nothing either.
        Assert.Equal("unchanged", (await Deliver(manager, OverridesTopic, new TariffOverrideMessage
        {
            OverrideId = overrideId, Region = "Mumbai-Central", PricePerKwh = 12.00m, ValidFrom = clock.Now.AddMinutes(-1),
            ValidTo = clock.Now.AddHours(1), Reason = "heatwave", CreatedBy = "admin-7",
        })).Outcome);

        clock.Now = clock.Now.AddHours(2);
        await manager.Ask<MaintenanceDone>(RunMaintenance.Instance, TimeSpan.FromSeconds(10));

        var updates = Updates();
        Assert.Equal([(9.60m, "load-based", "system"), (12.00m, "admin-override", "admin-7"), (10.80m, "load-based", "system")],
            updates.Select(u => (u.NewPrice, u.Reason, u.TriggeredBy)));
        Assert.Equal(overrideId, updates[1].OverrideId);
        Assert.Equal(12.00m, updates[2].OldPrice);
        Assert.Equal(1, await ScalarAsync<long>("SELECT count(*) FROM tariff_overrides WHERE override_id = $1", overrideId));
        Assert.Equal(10.80m, WireJson.Deserialize<CachedTariff>((await Redis.StringGetAsync(Keys.Tariff("Mumbai-Central"))).ToString()).PricePerKwh);
    }

    [Fact]
    public async Task Should_apply_a_percentage_override_to_the_base_rate_and_drop_it_when_lifted()
    {
        var clock = new ManualTime(T0);
        var manager = Start(time: clock);
        var id = Guid.NewGuid();
        await Deliver(manager, OverridesTopic, new TariffOverrideMessage
        {
            OverrideId = id, Region = "Nashik", Percentage = -25m, ValidFrom = T0.AddMinutes(-5), ValidTo = T0.AddHours(3), CreatedBy = "admin-1",
        });
        await Deliver(manager, OverridesTopic, new TariffOverrideMessage { OverrideId = id, Region = "Nashik", Action = "lift", CreatedBy = "admin-2" });

        Assert.Equal([(6.00m, "admin-override"), (8.00m, "load-based")], Updates().Select(u => (u.NewPrice, u.Reason)));
        Assert.Equal("admin-2", await ScalarAsync<string>("SELECT lifted_by FROM tariff_overrides WHERE override_id = $1", id));
    }

    [Fact]
    public async Task Should_consume_from_kafka_and_commit_offsets_after_the_tariff_is_stored()
    {
        var regional = NewTopic("regional", 3);
        var overrides = NewTopic("overrides");
        var group = "tariff-" + Guid.NewGuid().ToString("N");
        var settings = new TariffSettings
        {
            Consumer = new ConsumerOptions
            {
                BootstrapServers = Fixture.Broker.BootstrapServers, GroupId = group, Topics = [regional, overrides],
                Properties = new Dictionary<string, string> { ["heartbeat.interval.ms"] = "500", ["session.timeout.ms"] = "6000" },
            },
        };
        var manager = Start(settings);
        foreach (var window in new[] { Window("Nashik", T0, 99, size: "1m"), Window("Nashik", T0, 92), Window("Nashik", T0, 92) })
            await Fixture.Producer.ProduceAsync(regional, new Message<string, string> { Key = "Nashik", Value = WireJson.Serialize(window) });

        await Eventually(async () => await CommittedEverything(group, regional), 20, "offsets committed");
        Assert.Equal(10.80m, Assert.Single(Updates()).NewPrice);
        Assert.Equal(1, await ChangeRows("Nashik"));
        Sys.Stop(manager);
    }
}
