using SmartGrid.Domain.Simulation;
using SmartGrid.Gateway.Auth;
using SmartGrid.Storage;
using SmartGrid.Storage.Meters;

namespace SmartGrid.Gateway.Seeding;

/// <summary>
/// Development only: creates user@, operator@ and admin@smartgrid.local (verified, password from
/// <c>SMARTGRID_DEMO_PASSWORD</c>) and gives the demo meter to the demo user. Idempotent: an
/// existing account or assignment is left as it is.
/// </summary>
public sealed class DemoAccountSeeder(
    IConfiguration configuration, GatewayOptions options, GatewayRegions regions, AccountStore accounts, MeterDirectory meters,
    MeterRegistry registry, ILogger<DemoAccountSeeder> log) : IHostedService
{
    public const string PasswordSetting = "SMARTGRID_DEMO_PASSWORD";
    public const string DefaultPassword = "SmartGrid-Demo-2025";
    public const string UserEmail = "user@smartgrid.local";
    public const string OperatorEmail = "operator@smartgrid.local";
    public const string AdminEmail = "admin@smartgrid.local";

    public Task StartAsync(CancellationToken cancellationToken) => SeedAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task SeedAsync(CancellationToken ct)
    {
        var password = configuration[PasswordSetting];
        if (string.IsNullOrEmpty(password))
        {
            password = DefaultPassword;
            log.DemoDefaultPassword(UserEmail, OperatorEmail, AdminEmail, DefaultPassword, PasswordSetting);
        }
        var hash = PasswordPolicy.Hash(password);
        await accounts.CreateUserAsync(UserEmail, null, hash, Roles.User, [], emailVerified: true, ct);
        await accounts.CreateUserAsync(OperatorEmail, null, hash, Roles.Operator, regions.Names.ToArray(), emailVerified: true, ct);
        await accounts.CreateUserAsync(AdminEmail, null, hash, Roles.Admin, [], emailVerified: true, ct);

        var demoUser = await accounts.FindByEmailAsync(UserEmail, ct);
        var meterId = options.DemoMeterId;
        if (await registry.GetRegionAsync(meterId, ct) is null)
            await meters.CreateAsync(meterId, RegionOfSimulatedMeter(meterId), ct);
        var outcome = await meters.AssignAsync(meterId, demoUser!.Id, ct);
        log.DemoAccountsReady(meterId, UserEmail, outcome);
    }

    /// <summary>The region the simulator gives this meter, so the pipeline's first sighting agrees with it.</summary>
    private string RegionOfSimulatedMeter(string meterId)
    {
        if (meterId.StartsWith("MTR-", StringComparison.Ordinal) && int.TryParse(meterId.AsSpan(4), out var index) && index is > 0 and <= 100_000)
        {
            var fleet = MeterFleet.Create(new SimulationOptions { MeterCount = index });
            if (fleet.Find(meterId) is { } simulated && regions.IsKnown(simulated.Region))
                return simulated.Region;
        }
        return regions.Names[0];
    }
}
