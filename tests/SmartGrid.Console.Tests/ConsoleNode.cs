using System.Net.Http.Json;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Gateway.Seeding;
using SmartGrid.Kafka;
using SmartGrid.Node;
using SmartGrid.Storage;

namespace SmartGrid.Console.Tests;

/// <summary>
/// One whole node (ingest, processor, services, gateway; embedded Kafka; its own database) serving the console on a
/// free port, the demo accounts, and Debian's chromium driven by Playwright. The readings go through the real
/// pipeline (raw_readings → meters → regional windows in PostgreSQL and on regional_aggregates).
/// </summary>
public sealed class ConsoleNode : IAsyncLifetime, IDisposable
{
    public const string Password = DemoAccountSeeder.DefaultPassword;
    public const string Chromium = "/usr/bin/chromium";
    public static readonly string[] Regions = ["Nashik", "Pune-West"];

    private IPlaywright? _playwright;
    private int _batches;
    private readonly SemaphoreSlim _sceneryGate = new(1, 1);
    private string? _sceneryMeter;

    public TestDatabase Database { get; private set; } = null!;
    public WebApplication App { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;
    public string KafkaBootstrap => App.Services.GetRequiredService<KafkaEndpoint>().BootstrapServers;

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
            throw new InvalidOperationException($"{Chromium} is missing: ./build.sh test installs Debian's chromium (apt-get install chromium)");
        Database = await TestDatabase.CreateAsync("sg_console");
        var gatewayPort = FreePort.Next();
        App = SmartGridNode.Build(
        [
            $"--ConnectionStrings:Postgres={Database.ConnectionString}",
            "--SmartGrid:Roles=ingest,processor,services,gateway",
            "--SmartGrid:Cluster:Port=0",
            $"--SmartGrid:Http:IngestPort={FreePort.Next()}",
            $"--SmartGrid:Http:GatewayPort={gatewayPort}",
            "--SmartGrid:Pipeline:IdleClose=00:00:02",
            // The specs share this node, and each minute they produce has meters of its own: a region's registered
            // meters pile up across specs, so at the default 0.9 no window would count as complete. The share itself
            // is specified in the gateway's GridSpecs; here every window the specs produce is the region's load.
            "--SmartGrid:Gateway:CompleteWindowShare=0.01",
            // Every spec signs in as the same operator and leaves its pages open, re-reading on each live event: over
            // ~30 specs a minute that one account passed the per-user limit (120 a minute per route) and a later
            // spec's overview got 429. The limit itself is specified in the gateway's specs, against a hostile client.
            "--SmartGrid:Gateway:RateLimitPerMinute=100000",
            $"--SmartGrid:Kafka:BootstrapFile={Path.Combine(Path.GetTempPath(), Database.Name, "bootstrap")}",
            $"--SmartGrid:Gateway:SigningKey={Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))}",
        ]);
        await App.StartAsync();
        BaseAddress = new Uri($"http://127.0.0.1:{gatewayPort}");
        await ActivatorUtilities.CreateInstance<DemoAccountSeeder>(App.Services).SeedAsync(CancellationToken.None);

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>A fresh browser context (no cookies), at 1280×800 unless told, with the operator's zone set to India.</summary>
    public async Task<IPage> NewPageAsync(int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseAddress.ToString(), ViewportSize = new ViewportSize { Width = width, Height = height }, TimezoneId = "Asia/Kolkata",
        });
        return await context.NewPageAsync();
    }

    /// <summary>Opens the console and logs in through its form.</summary>
    public async Task<IPage> LoginAsync(string email, int width = 1280, int height = 800)
    {
        var page = await NewPageAsync(width, height);
        await page.GotoAsync("/");
        await page.Locator("input[type=email]").FillAsync(email);
        await page.Locator("input[type=password]").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await page.Locator("#who").WaitForAsync();
        return page;
    }

    /// <summary>An API client logged in as <paramref name="email"/> through the JSON flow (the attacker's own requests).</summary>
    public async Task<HttpClient> ApiClientAsync(string email)
    {
        var http = new HttpClient { BaseAddress = BaseAddress };
        var login = await http.PostAsJsonAsync("/api/v1/auth/login", new { email, password = Password });
        login.EnsureSuccessStatusCode();
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    /// <summary>
    /// <paramref name="meters"/> meters per region, each at <paramref name="kw"/> kW, six readings in the minute that
    /// starts at <paramref name="minute"/>: one 1-minute window per region when the pipeline closes them. Answers the meters.
    /// </summary>
    public async Task<IReadOnlyList<string>> ProduceMinuteAsync(DateTimeOffset minute, int meters, double kw)
    {
        var batch = Interlocked.Increment(ref _batches);
        if (meters > 1000 || batch > 99)
            throw new ArgumentOutOfRangeException(nameof(meters), "at most 1000 meters a call and 99 calls: the ids must stay apart");
        // Meters of their own per call: a meter that saw a later minute would drop an earlier one as too late.
        var fleet = Enumerable.Range(0, Regions.Length)
            .SelectMany(r => Enumerable.Range(0, meters).Select(m => ($"MTR-{77_000_000 + batch * 10_000 + r * 1000 + m:D8}", Regions[r])))
            .ToList();
        await ProduceAsync(fleet, minute, kw);
        return fleet.Select(f => f.Item1).ToList();
    }

    /// <summary>Six readings of each meter (registered first) in the minute from <paramref name="minute"/>, through raw_readings.</summary>
    public Task ProduceAsync(IReadOnlyList<(string MeterId, string Region)> fleet, DateTimeOffset minute, double kw) =>
        ProduceReadingsAsync(fleet.SelectMany(m => Enumerable.Range(0, 6).Select(s => new TelemetryReading
        {
            MeterId = m.MeterId, Timestamp = minute.AddSeconds(s * 10), Voltage = 228 + s, Current = kw * 1000 / 230, PowerKw = kw,
            EnergyKwh = kw / 360, Region = m.Region,
        })).ToList());

    /// <summary>
    /// Readings as given (each meter registered in its reading's region first), in order, through raw_readings, partitioned
    /// by murmur2 as every producer of the topic must, so a meter bucket's meters all come from one partition.
    /// </summary>
    public async Task ProduceReadingsAsync(IReadOnlyList<TelemetryReading> readings)
    {
        await App.Services.GetRequiredService<MeterRegistry>().EnsureRegisteredAsync(readings.Select(r => (r.MeterId, r.Region!)).Distinct().ToList());
        KafkaNative.EnsureLoaded();
        using var producer = new ProducerBuilder<string, string>(
            new ProducerConfig { BootstrapServers = KafkaBootstrap, Acks = Acks.All, Partitioner = Partitioner.Murmur2Random }).Build();
        foreach (var reading in readings)
            producer.Produce(Topics.RawReadings, new Message<string, string> { Key = reading.MeterId, Value = JsonSerializer.Serialize(reading) });
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// Places meters through the ADMIN's CSV import (creating the feeders and transformers it rates) from
    /// <paramref name="validFrom"/>, as an operator's tree is built; fails unless every line is placed or unchanged.
    /// </summary>
    public async Task PlaceAsync(IEnumerable<(string MeterId, string TransformerId, string FeederId, string Region)> placements,
        double transformerRatedKw, double feederRatedKw, DateTimeOffset validFrom)
    {
        using var admin = await ApiClientAsync(DemoAccountSeeder.AdminEmail);
        var csv = "meter_id,transformer_id,feeder_id,region,transformer_rated_kw,feeder_rated_kw\n" + string.Concat(placements.Select(p =>
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{p.MeterId},{p.TransformerId},{p.FeederId},{p.Region},{transformerRatedKw},{feederRatedKw}\n")));
        using var content = new StringContent(csv, System.Text.Encoding.UTF8, "text/csv");
        var response = await admin.PostAsync($"/api/v1/admin/topology/import?valid_from={Uri.EscapeDataString(validFrom.ToString("O", System.Globalization.CultureInfo.InvariantCulture))}", content);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (!response.IsSuccessStatusCode || answer.GetProperty("refused").GetInt32() != 0)
            throw new InvalidOperationException($"topology import refused: {answer}");
    }

    /// <summary>
    /// Once per fixture: twelve minutes of a busy grid (30 meters a region, 40-58 kW each) and of the demo user's meter, in
    /// PostgreSQL before it answers, and an anomaly of one meter, for the pages the accessibility specs look at (and the
    /// screenshots show: ten windows in an hour give a meter its baseline). Answers the meter with the anomaly.
    /// </summary>
    public async Task<string> SceneryAsync()
    {
        await _sceneryGate.WaitAsync();
        try
        {
            if (_sceneryMeter is not null)
                return _sceneryMeter;
            var demo = App.Services.GetRequiredService<SmartGrid.Gateway.GatewayOptions>().DemoMeterId;
            var demoRegion = await App.Services.GetRequiredService<MeterRegistry>().GetRegionAsync(demo) ?? Regions[0];
            var now = DateTimeOffset.UtcNow;
            var first = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero).AddMinutes(-50);
            double[] loads = [40, 46, 52, 55, 48, 44, 50, 58, 53, 47, 45, 49];
            // The same meters minute after minute (in order, so none is too late), as a real fleet reports.
            var meters = await ProduceMinuteAsync(first, 30, loads[0]);
            var fleet = meters.Select(m => (m, Regions[(int.Parse(m.AsSpan(4), System.Globalization.CultureInfo.InvariantCulture) / 1000) % 10])).ToList();
            // A small tree per region for the grid pages: two transformers of 15 meters on one feeder, rated so their load runs 75-110 %.
            await PlaceAsync(fleet.Select((m, i) => (m.Item1, $"TR-{m.Item2.ToUpperInvariant()}-1-{i % 30 / 15 + 1}", $"FD-{m.Item2.ToUpperInvariant()}-1", m.Item2)),
                transformerRatedKw: 800, feederRatedKw: 2000, first.AddHours(-1));
            for (var i = 0; i < loads.Length; i++)
            {
                if (i > 0) await ProduceAsync(fleet, first.AddMinutes(i), loads[i]);
                await ProduceAsync([(demo, demoRegion)], first.AddMinutes(i), 1.5 + i * 0.3);
            }
            var last = first.AddMinutes(loads.Length - 1).ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
            await EventuallyAsync($"SELECT region FROM regional_aggregates_1m WHERE window_start = '{last}+00'", rows => rows.Count >= Regions.Length);
            ProduceAnomaly(meters[0], fleet[0].Item2, first.AddMinutes(7));
            await EventuallyAsync($"SELECT alert_id FROM alerts WHERE meter_id = '{meters[0]}'", rows => rows.Count > 0);
            return _sceneryMeter = meters[0];
        }
        finally
        {
            _sceneryGate.Release();
        }
    }

    /// <summary>An anomaly on the anomalies topic, as the pipeline publishes one: the AlertManager turns it into an alert.</summary>
    public void ProduceAnomaly(string meterId, string region, DateTimeOffset at)
    {
        var anomaly = new Anomaly
        {
            MeterId = meterId, Region = region, Kind = AnomalyKind.Spike, Timestamp = at, BaselineKw = 1, ActualKw = 9, DeviationPercent = 800,
            Severity = SmartGrid.Domain.Severity.High,
        };
        KafkaNative.EnsureLoaded();
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = KafkaBootstrap, Acks = Acks.All }).Build();
        producer.Produce(Topics.Anomalies, new Message<string, string> { Key = meterId, Value = JsonSerializer.Serialize(anomaly) });
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    /// <summary>Rows of a query until <paramref name="done"/> holds (or 60 s), each row as its columns joined by '|'.</summary>
    public async Task<List<string>> EventuallyAsync(string sql, Func<List<string>, bool> done)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var rows = await QueryAsync(sql);
            if (done(rows) || DateTime.UtcNow > until)
                return rows;
            await Task.Delay(250);
        }
    }

    public async Task<List<string>> QueryAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
            rows.Add(string.Join('|', Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        return rows;
    }

    // xUnit disposes a fixture after its DisposeAsync.
    public void Dispose() => _sceneryGate.Dispose();

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        _playwright?.Dispose();
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
        if (Database is not null) await Database.DisposeAsync();
    }
}
