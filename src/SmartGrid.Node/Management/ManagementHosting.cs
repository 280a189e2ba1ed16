using System.Diagnostics;
using Akka.Actor;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using SmartGrid.Actors.Hosting;
using SmartGrid.Contracts;
using SmartGrid.Storage;
using SmartGrid.Contracts.Management;
using SmartGrid.Services.Hosting;
using SmartGrid.Services.Notifications;

namespace SmartGrid.Node.Management;

/// <summary>
/// The command endpoint smartgrid-cmd talks to (SmartGrid:Management): HTTP+JSON on a listener of its
/// own, default 127.0.0.1:9110, serving the node's ActorSystem. It is a separate small server rather
/// than routes on the node's ports so that none of the gateway's middleware applies to it, and so a
/// taken port costs the node its command endpoint (logged), not its life. Every command needs the token
/// (loopback too); commands that change the cluster (POST) also need the <see cref="CommandHeader"/>
/// header, which no HTML form and no webhook sends, so a request forged from elsewhere cannot run them
/// even if it carried a token. Every command is audited in the node's log: who, what, result.
/// </summary>
public static class ManagementHosting
{
    public const string AuditCategory = "SmartGrid.Management.Audit";
    /// <summary>Who the operator says they are (the CLI sends user@host); logged, not trusted: the token is the credential.</summary>
    public const string OperatorHeader = "X-SmartGrid-Operator";
    /// <summary>Sent by smartgrid-cmd with every request; required on mutating ones (a custom header makes the request non-simple).</summary>
    public const string CommandHeader = "X-SmartGrid-Cmd";

    public static WebApplicationBuilder AddManagement(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.BindValidated<ManagementOptions>(ManagementOptions.Section, o =>
        {
            o.Validate();
            return o;
        });
        options.Token = options.ResolveToken();
        var ring = new LogRingBuffer();
        builder.Logging.AddProvider(ring);
        builder.Services.AddSingleton(ring);
        builder.Services.AddSingleton(options);
        if (options.Enabled) builder.Services.AddHostedService<ManagementServer>();
        return builder;
    }

    /// <summary>The routes, on any endpoint builder (the management server's own, or a test host).</summary>
    public static void MapCommands(IEndpointRouteBuilder app, IServiceProvider node, ManagementOptions options)
    {
        var audit = node.GetRequiredService<ILoggerFactory>().CreateLogger(AuditCategory);
        ActorSystem System() => node.GetService<ActorSystem>() ?? throw CommandException.Unavailable("the actor system has not started yet");

        var cmd = app.MapGroup("/cmd");
        void Map(string method, string pattern, string name, Func<HttpContext, Task<CommandOutput>> run) =>
            cmd.MapMethods(pattern, [method], (Func<HttpContext, Task<IResult>>)(context => RunAsync(context, name, run, options, audit)));

        Map("GET", "/cluster/show", "cluster show", _ => Task.FromResult(new ClusterCommands(System()).Show()));
        Map("GET", "/cluster/leader", "cluster leader", _ => Task.FromResult(new ClusterCommands(System()).Leader()));
        Map("GET", "/cluster/unreachable", "cluster unreachable", _ => Task.FromResult(new ClusterCommands(System()).Unreachable()));
        Map("POST", "/cluster/join", "cluster join", c => new ClusterCommands(System()).JoinAsync(c.Request.Query["address"]));
        Map("POST", "/cluster/leave", "cluster leave", c => new ClusterCommands(System()).LeaveAsync(c.Request.Query["address"]));
        Map("POST", "/cluster/down", "cluster down", c => new ClusterCommands(System()).DownAsync(c.Request.Query["address"]));
        Map("POST", "/cluster/down-unreachable", "cluster down-unreachable", _ => Task.FromResult(new ClusterCommands(System()).DownUnreachable()));
        Map("GET", "/cluster-sharding/regions", "cluster-sharding regions", _ => new ShardingCommands(System()).RegionsAsync());
        Map("GET", "/cluster-sharding/region-stats", "cluster-sharding region-stats", c => new ShardingCommands(System()).RegionStatsAsync(c.Request.Query["r"]));
        Map("GET", "/cluster-sharding/shard-stats", "cluster-sharding shard-stats", c => new ShardingCommands(System()).ShardStatsAsync(c.Request.Query["r"]));
        Map("GET", "/actor/hierarchy", "actor hierarchy", c => Task.FromResult(Node(c).Hierarchy(QueryInt(c, "d"), QueryFlag(c, "system"))));
        Map("GET", "/log/peek", "log peek", c => Task.FromResult(Node(c).Peek(QueryInt(c, "n"))));
        Map("GET", "/node/health", "node health", c => Node(c).HealthAsync(c.RequestAborted));
        Map("GET", "/node/config", "node config", c => Task.FromResult(Node(c).Config()));
        Map("GET", "/kafka/lag", "kafka lag", c => new KafkaLag(node.GetRequiredService<KafkaEndpoint>(), node.GetRequiredService<GridServicesOptions>(),
            node.GetRequiredService<NotificationSettings>()).LagAsync(c.RequestAborted));
        Map("GET", "/singleton/show", "singleton show", _ => new SingletonCommands(System()).ShowAsync());

        // Streams until the client disconnects; audited when it starts and when it ends.
        cmd.MapGet("/cluster/tail", async context =>
        {
            var who = Who(context);
            if (!Authorized(context, options))
            {
                audit.TailRefused(who);
                await Unauthorized().ExecuteAsync(context);
                return;
            }
            audit.TailStarted(who);
            var stopping = node.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            using var both = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
            await new MembershipTail(System()).StreamAsync(context.Response, both.Token);
            audit.TailEnded(who);
        });

        NodeCommands Node(HttpContext _) => new(System(), node.GetRequiredService<HealthCheckService>(),
            node.GetRequiredService<IConfiguration>(), node.GetRequiredService<LogRingBuffer>());
    }

    private static async Task<IResult> RunAsync(HttpContext context, string name, Func<HttpContext, Task<CommandOutput>> run,
        ManagementOptions options, ILogger audit)
    {
        var who = Who(context);
        var what = Printable(string.Join(' ', context.Request.Query.Select(q => $"{q.Key}={q.Value}").Prepend(name)), 300);
        if (!Authorized(context, options))
        {
            audit.CommandUnauthorized(who, what);
            return Unauthorized();
        }
        if (HttpMethods.IsPost(context.Request.Method) && context.Request.Headers[CommandHeader] != "1")
        {
            audit.CommandWithoutHeader(who, what, CommandHeader);
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                detail: $"commands that change the cluster need the header {CommandHeader}: 1 (smartgrid-cmd sends it)");
        }
        var clock = Stopwatch.StartNew();
        try
        {
            var output = await run(context);
            if (audit.IsEnabled(LogLevel.Information))
                audit.CommandSucceeded(who, what, clock.ElapsedMilliseconds, output.Summary());
            return Results.Json(output);
        }
        catch (CommandException e)
        {
            audit.CommandRefused(who, what, e.Status, e.Message);
            return e.Field is { } field && e.Status == StatusCodes.Status400BadRequest
                ? Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [e.Message] }, title: e.Title, detail: e.Message)
                : Results.Problem(statusCode: e.Status, title: e.Title, detail: e.Message);
        }
        catch (Exception e) when (e is AskTimeoutException or TimeoutException or OperationCanceledException)
        {
            audit.CommandTimedOut(who, what, e.Message);
            return Results.Problem(statusCode: StatusCodes.Status504GatewayTimeout, title: "Timed out", detail: e.Message);
        }
        catch (Exception e)
        {
            // Audited like any other result: an operator's command that broke must show in the log, with its cause.
            audit.CommandFailed(e, who, what);
            return Results.Problem(statusCode: StatusCodes.Status500InternalServerError, title: "Command failed", detail: $"{e.GetType().Name}: {e.Message}");
        }
    }

    private static IResult Unauthorized() => Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
        detail: "this node's command endpoint requires a token (smartgrid-cmd --token, or SMARTGRID_CMD_TOKEN)");

    /// <summary>The request carries the management token (compared in constant time); never true without one configured.</summary>
    public static bool Authorized(HttpContext context, ManagementOptions options) => BearerToken.Matches(context, options.Token);

    private static string Who(HttpContext context)
    {
        var claimed = Printable(context.Request.Headers[OperatorHeader].ToString(), 64);
        var from = context.Connection.RemoteIpAddress is { } ip ? $"{(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip)}:{context.Connection.RemotePort}" : "unknown";
        return claimed.Length > 0 ? $"{claimed} from {from}" : $"anonymous from {from}";
    }

    /// <summary>What the client sent, made safe for one log line: no control characters (no forged lines), bounded length.</summary>
    private static string Printable(string text, int max) => new(text.Where(c => !char.IsControl(c)).Take(max).ToArray());

    private static int? QueryInt(HttpContext context, string name)
    {
        var raw = context.Request.Query[name].ToString();
        if (raw.Length == 0) return null;
        return int.TryParse(raw, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : throw CommandException.BadInput(name, $"{name} must be a whole number, got '{raw}'");
    }

    private static bool QueryFlag(HttpContext context, string name) =>
        context.Request.Query[name].ToString() is "true" or "1";
}

/// <summary>The management listener: a small Kestrel server of its own, started with the node and stopped with it.</summary>
public sealed class ManagementServer(IServiceProvider node, ManagementOptions options, ILogger<ManagementServer> log) : IHostedService
{
    private WebApplication? _server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var address = options.Validate();
        if (string.IsNullOrEmpty(options.Token))
        {
            log.ManagementWithoutToken();
            return;
        }
        // No command line of its own, and no watch on appsettings.json: the node already has one.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.Logging.ClearProviders(); // requests are audited in the node's log; the server's own chatter is not needed
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, options.Port));
        var server = builder.Build();
        ManagementHosting.MapCommands(server, node, options);
        try
        {
            await server.StartAsync(cancellationToken);
            _server = server;
            log.ManagementListening(address, options.Port,
                string.IsNullOrWhiteSpace(options.TokenFile) ? "" : $" (from {Path.GetFullPath(options.TokenFile)})");
        }
        catch (IOException e)
        {
            // Another node on this host holds the port: the node still does its work, without the command endpoint.
            log.ManagementNotStarted(address, options.Port, e.Message);
            await server.DisposeAsync();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is null) return;
        await _server.StopAsync(cancellationToken);
        await _server.DisposeAsync();
    }
}
