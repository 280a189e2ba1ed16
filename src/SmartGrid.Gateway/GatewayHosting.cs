using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Scalar.AspNetCore;
using SmartGrid.Actors.Hosting;
using SmartGrid.Channels;
using SmartGrid.Contracts;
using SmartGrid.Gateway.Admin;
using SmartGrid.Gateway.Alerts;
using SmartGrid.Gateway.Auth;
using SmartGrid.Gateway.Billing;
using SmartGrid.Gateway.OperatorConsole;
using SmartGrid.Gateway.Grid;
using SmartGrid.Gateway.Http;
using SmartGrid.Gateway.Meters;
using SmartGrid.Gateway.Notifications;
using SmartGrid.Gateway.Seeding;
using SmartGrid.Gateway.Tariffs;
using SmartGrid.Gateway.Telemetry;
using SmartGrid.Storage;
using SmartGrid.Storage.Billing;
using SmartGrid.Storage.Grid;
using SmartGrid.Storage.Meters;
using SmartGrid.Storage.Notifications;
using SmartGrid.Storage.Tariffs;
using StackExchange.Redis;

namespace SmartGrid.Gateway;

/// <summary>Wires the REST gateway (role <c>gateway</c>) into a host.</summary>
public static class GatewayHosting
{
    public const string Scheme = JwtBearerDefaults.AuthenticationScheme;

    /// <summary>
    /// Registers the gateway: options from <see cref="GatewayOptions.Section"/> (validated; outside
    /// Development a signing key must be configured, see <see cref="SigningKeys"/>), JWT bearer authentication, the role
    /// policies, the stores and, when not registered already, Redis (ConnectionStrings:Redis), an
    /// <see cref="IAccountMessenger"/> (SMTP and SMS of SmartGrid:Notifications; Development: files in
    /// <see cref="GatewayOptions.DevelopmentMailDrop"/>) and an <see cref="IMeterStatusSource"/> backed by the meter
    /// shard region, an <see cref="IAlertManagerRef"/> on the AlertManager singleton proxy and
    /// <see cref="GridServicesOptions"/> (the grid services' Redis keyspace). Needs
    /// <see cref="StorageServices"/> and <see cref="MeterRegistry"/> in the container
    /// (AddSmartGridStorage) and, for tariff overrides, a Kafka <c>IProducer&lt;string, string&gt;</c>.
    /// Development hosts also seed the demo accounts.
    /// </summary>
    public static IServiceCollection AddGateway(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.BindValidated<GatewayOptions>(GatewayOptions.Section, o => o.Validate(builder.Environment.IsDevelopment()));
        // Only the channels' part of SmartGrid:Notifications: the rest (and unknown keys) is the NotificationManager's to refuse.
        var channels = builder.Configuration.BindValidated<ChannelSettings>(ChannelSettings.Section, c =>
        {
            c.Validate();
            return c;
        });
        var keys = SigningKeys.Load(options, builder.Environment.IsDevelopment(), TimeProvider.System);
        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(keys);
        services.TryAddSingleton(sp => sp.GetRequiredService<StorageServices>().Regions);
        services.TryAddSingleton(sp => sp.GetRequiredService<StorageServices>().IngestionKeys);
        services.TryAddSingleton(sp => sp.GetRequiredService<StorageServices>().Topology);
        // First of the gateway's hosted services: the demo seeder reads the regions.
        services.AddHostedService<RegionCatalogRefresher>();
        services.AddSingleton<GatewayRegions>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(_ => RedisConnection.Connect(RedisConnection.ConnectionString(builder.Configuration)));
        var mailDrop = builder.Environment.IsDevelopment() && options.DevelopmentMailDrop is { Length: > 0 } drop ? Path.GetFullPath(drop) : null;
        services.TryAddSingleton<IAccountMessenger>(sp => mailDrop is not null
            ? new MailDropMessenger(mailDrop, sp.GetRequiredService<TimeProvider>())
            : ChannelAccountMessenger.From(channels));
        services.AddSingleton<OneTimeCodes>();
        services.TryAddSingleton<IMeterStatusSource, ShardRegionMeterStatusSource>();
        services.TryAddSingleton<IAlertManagerRef, SingletonAlertManagerRef>();
        // The same allow-list the NotificationManager delivers with: a URL saved here is one it will connect to.
        services.TryAddSingleton(WebhookTargets.From(channels.Webhook));
        services.AddSingleton(sp => new AccountStore(sp.GetRequiredService<StorageServices>().DataSource));
        services.AddSingleton(sp => new MeterDirectory(sp.GetRequiredService<StorageServices>().DataSource));
        services.AddSingleton(sp => new AlertStore(sp.GetRequiredService<StorageServices>().DataSource));
        services.AddSingleton(sp => new EscalationStore(sp.GetRequiredService<StorageServices>().DataSource));
        services.AddSingleton(sp => new BillingStore(sp.GetRequiredService<StorageServices>().DataSource, GatewayJson.Options));
        services.AddSingleton(sp => new NotificationPreferenceStore(sp.GetRequiredService<StorageServices>().DataSource, WebhookChannel.NewSecret));
        services.AddSingleton(sp => new TariffRecords(sp.GetRequiredService<StorageServices>().DataSource));
        services.AddSingleton<TariffStore>();
        services.AddSingleton(sp => new RegionLoads(sp.GetRequiredService<StorageServices>().DataSource));
        services.AddSingleton<RegionOverview>();
        services.AddSingleton(sp => new RegionMeters(sp.GetRequiredService<StorageServices>().DataSource, options.MeterSilentAfter,
            options.MeterPassivatedAfter));
        services.AddSingleton<TariffOverridePublisher>();
        services.AddSingleton<DatabaseBreaker>();
        services.AddSingleton<TokenService>();
        services.AddSingleton<SessionRevocations>();
        services.AddHostedService<RevocationMirror>();
        services.AddSingleton<RedisGuard>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<LoginLockout>();
        services.AddSingleton<RateLimitFilter>();
        services.AddProblemDetails();
        services.AddGatewayCors(options);
        services.AddOpenApi(GatewayOpenApi.DocumentName, GatewayOpenApi.Configure);

        var validation = new TokenService(options, keys, TimeProvider.System).ValidationParameters();
        services.AddAuthentication(Scheme).AddJwtBearer(Scheme, jwt =>
        {
            jwt.MapInboundClaims = false;
            jwt.TokenValidationParameters = validation;
            jwt.Events = new JwtBearerEvents
            {
                OnTokenValidated = RejectRevokedAsync,
                OnChallenge = ChallengeAsync,
                OnForbidden = ForbiddenAsync,
            };
        });
        services.AddAuthorizationBuilder()
            .AddPolicy(Roles.UserPolicy, p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser().RequireRole(Roles.User))
            .AddPolicy(Roles.OperatorPolicy, p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser().RequireRole(Roles.Operator, Roles.Admin))
            .AddPolicy(Roles.AdminPolicy, p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser().RequireRole(Roles.Admin));

        if (builder.Environment.IsDevelopment() && options.SeedDemoAccounts)
            services.AddHostedService<DemoAccountSeeder>();
        return services;
    }

    /// <summary>
    /// Maps the gateway's routes under <c>/api/v1</c> (all behind <see cref="DatabaseOutageFilter"/>),
    /// the OpenAPI document <c>/openapi/v1.json</c>, its browsable UI <c>/scalar</c> and the
    /// <c>/swagger</c> redirect there, answered only on <paramref name="gatewayPort"/> (0 = on every
    /// port, for single-listener hosts such as tests).
    /// </summary>
    public static WebApplication MapGateway(this WebApplication app, int gatewayPort)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(gatewayPort);
        if (app.Services.GetRequiredService<SigningKeys>().GeneratedFile is { } keyFile)
            app.Logger.GeneratedSigningKey(keyFile);
        app.UseGatewaySecurity();
        app.UseConsolePages(gatewayPort);
        app.UseAuthentication();
        app.UseAuthorization();
        var api = app.MapGroup("/api/v1").AddEndpointFilter<DatabaseOutageFilter>();
        var openApi = app.MapOpenApi(GatewayOpenApi.Route);
        var scalar = app.MapScalarApiReference(GatewayOpenApi.UiRoute, ui => ui
            .WithTitle("SmartGrid API")
            .WithOpenApiRoutePattern(GatewayOpenApi.Route)
            .AddPreferredSecuritySchemes(GatewayOpenApi.BearerScheme));
        var swagger = app.MapGet("/swagger", () => Results.Redirect($"{GatewayOpenApi.UiRoute}/{GatewayOpenApi.DocumentName}")).ExcludeFromDescription();
        if (gatewayPort > 0)
        {
            foreach (var builder in new IEndpointConventionBuilder[] { api, openApi, scalar, swagger })
                builder.RequireHost($"*:{gatewayPort}");
        }
        AuthEndpoints.Map(api);
        UserTelemetryEndpoints.Map(api);
        OperatorEndpoints.Map(api);
        PowerQuality.PowerQualityEndpoints.Map(api);
        Reliability.ReliabilityEndpoints.Map(api);
        Grid.TopologyEndpoints.Map(api);
        AdminEndpoints.Map(api);
        RegistryEndpoints.Map(api);
        EscalationPolicyEndpoints.Map(api);
        TariffEndpoints.Map(api);
        BillingEndpoints.Map(api);
        AlertEndpoints.Map(api);
        NotificationEndpoints.Map(api);
        ConsoleEventEndpoints.Map(api);
        return app;
    }

    /// <summary>
    /// Refuses a token whose session was ended (<see cref="SessionRevocations"/>), or that a
    /// rotation's previous key signed after the rotation.
    /// </summary>
    private static async Task RejectRevokedAsync(TokenValidatedContext context)
    {
        if (!Guid.TryParse(context.Principal?.FindFirst(GatewayClaims.Session)?.Value, out var session)
            || context.Principal!.FindFirst(GatewayClaims.TokenId) is null)
        {
            context.Fail("token lacks jti or sid");
            return;
        }
        var services = context.HttpContext.RequestServices;
        if (!services.GetRequiredService<TokenService>().IsAcceptedSigningKey(context.SecurityToken))
            context.Fail("signed with the previous key after the rotation");
        else if (await services.GetRequiredService<SessionRevocations>().IsRevokedAsync(session, context.HttpContext.RequestAborted))
            context.Fail("session revoked");
    }

    private static async Task ChallengeAsync(JwtBearerChallengeContext context)
    {
        context.HandleResponse();
        var response = context.Response;
        response.StatusCode = StatusCodes.Status401Unauthorized;
        response.Headers.WWWAuthenticate = context.AuthenticateFailure is null ? "Bearer" : "Bearer error=\"invalid_token\"";
        var detail = context.AuthenticateFailure is null
            ? "Send an access token: Authorization: Bearer <token> (POST /api/v1/auth/login)."
            : "The access token is invalid, expired or revoked; refresh it or log in again.";
        await Problems.Unauthorized(detail).ExecuteAsync(context.HttpContext);
    }

    private static Task ForbiddenAsync(ForbiddenContext context) =>
        Problems.Forbidden("Your role may not use this route.").ExecuteAsync(context.HttpContext);
}
