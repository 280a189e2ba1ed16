using System.Net.Http.Json;
using System.Text.Json;
using SmartGrid.Contracts;
using SmartGrid.Gateway.Seeding;

namespace SmartGrid.Bench;

/// <summary>
/// `bench redis-outage`: what a gateway request costs when Redis is down. A gateway node (fresh database, demo
/// accounts) on a redis-server of its own; each route is called --requests times one after another with Redis up,
/// then with the server frozen (SIGSTOP: connections open, no answers), then killed. Prints per route and phase
/// p50/p95/max and the p50/p95 added to the Redis-up figures.
/// </summary>
internal static class RedisOutageBench
{
    private const string Password = "Bench-Demo-Password-2025";

    internal static readonly Option<int> Requests = BenchOptions.Int("--requests", 200, "requests per route and phase");

    internal static async Task<int> RunAsync(int requests)
    {
        using var redis = await RedisServer.StartAsync();
        await using var database = await BenchDatabase.CreateAsync();
        var port = FreePort.Next();
        await using var node = await BenchNode.StartAsync(BenchNode.Args(database, broker: null, ClusterRoles.Gateway, FreePort.Next(),
        [
            "--environment=Development",
            $"--ConnectionStrings:Redis={redis.ConnectionString}",
            $"--SmartGrid:Http:GatewayPort={port}",
            "--SmartGrid:Management:Enabled=false",
            "--SmartGrid:Gateway:RateLimitPerMinute=1000000",
            "--SmartGrid:Gateway:AnonymousRateLimitPerMinute=1000000",
            $"--{DemoAccountSeeder.PasswordSetting}={Password}",
            "--Logging:LogLevel:Default=Error",
        ]));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(120) };
        var user = await LoginAsync(http, DemoAccountSeeder.UserEmail);
        var op = await LoginAsync(http, DemoAccountSeeder.OperatorEmail);
        var routes = new (string Name, Func<Task<HttpResponseMessage>> Call)[]
        {
            ("POST /auth/login", () => http.PostAsJsonAsync("/api/v1/auth/login", new { email = DemoAccountSeeder.UserEmail, password = Password })),
            ("GET /grid/regions", () => Send(http, HttpMethod.Get, "/api/v1/grid/regions", op)),
            ("GET /tariff/user/current", () => Send(http, HttpMethod.Get, "/api/v1/tariff/user/current", user)),
            ("GET /notifications/user/preferences", () => Send(http, HttpMethod.Get, "/api/v1/notifications/user/preferences", user)),
        };

        Console.WriteLine($"redis-outage bench: gateway node on 127.0.0.1:{port}, redis-server {redis.ConnectionString}, database {database.Name}; " +
                          $"{requests} sequential requests per route and phase");
        var up = await MeasureAsync(routes, requests);
        await redis.PauseAsync();
        var paused = await MeasureAsync(routes, requests);
        await redis.StopAsync();
        var killed = await MeasureAsync(routes, requests);

        Console.WriteLine($"{"route",-36} {"redis",-7} {"p50",8} {"p95",8} {"max",8} {"added p50",10} {"added p95",10}  (ms)");
        foreach (var (name, _) in routes)
        {
            foreach (var (phase, figures) in new[] { ("up", up), ("paused", paused), ("killed", killed) })
            {
                var (u, d) = (up[name], figures[name]);
                Console.WriteLine($"{name,-36} {phase,-7} {Percentiles.Of(d, 50),8:0.0} {Percentiles.Of(d, 95),8:0.0} {d.Max(),8:0.0} " +
                                  (phase == "up" ? "" : $"{Percentiles.Of(d, 50) - Percentiles.Of(u, 50),10:0.0} {Percentiles.Of(d, 95) - Percentiles.Of(u, 95),10:0.0}"));
            }
        }
        Console.WriteLine("goal: at most 100 ms added per request with Redis down");
        return 0;
    }

    /// <summary>Each route's latencies in ms, sorted; every answer must be a success (the fallbacks answer, they do not fail).</summary>
    private static async Task<Dictionary<string, List<double>>> MeasureAsync((string Name, Func<Task<HttpResponseMessage>> Call)[] routes, int requests)
    {
        var result = routes.ToDictionary(r => r.Name, _ => new List<double>());
        for (var i = 0; i < requests; i++)
        {
            foreach (var (name, call) in routes)
            {
                var clock = Stopwatch.StartNew();
                using var response = await call();
                await response.Content.ReadAsByteArrayAsync();
                result[name].Add(clock.Elapsed.TotalMilliseconds);
                if (!response.IsSuccessStatusCode)
                    throw new InvalidOperationException($"{name} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
        }
        foreach (var latencies in result.Values)
            latencies.Sort();
        return result;
    }

    private static async Task<string> LoginAsync(HttpClient http, string email)
    {
        for (var attempt = 0; ; attempt++)
        {
            var response = await http.PostAsJsonAsync("/api/v1/auth/login", new { email, password = Password });
            if (response.IsSuccessStatusCode)
                return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;
            if (attempt > 100)
                throw new InvalidOperationException($"login of {email} answered {(int)response.StatusCode}");
            await Task.Delay(200); // the demo accounts are seeded while the node starts
        }
    }

    private static Task<HttpResponseMessage> Send(HttpClient http, HttpMethod method, string path, string token)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new("Bearer", token);
        return http.SendAsync(request);
    }
}
