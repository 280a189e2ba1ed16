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
public sealed class ConsoleNode : IAsyncLifetime
{
    public const string Password = DemoAccountSeeder.DefaultPassword;
    public const string Chromium = "/usr/bin/chromium";
    public static readonly string[] Regions = ["Nashik", "Pune-West"];

    private IPlaywright? _playwright;
    private int _batches;

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
    /// starts at <paramref name="minute"/>: one 1-minute window per region when the pipeline closes them.
    /// </summary>
    public async Task ProduceMinuteAsync(DateTimeOffset minute, int meters, double kw)
    {
        var batch = Interlocked.Increment(ref _batches);
        if (meters > 1000 || batch > 99)
            throw new ArgumentOutOfRangeException(nameof(meters), "at most 1000 meters a call and 99 calls: the ids must stay apart");
        var readings = new List<TelemetryReading>();
        var registrations = new List<(string, string)>();
        for (var r = 0; r < Regions.Length; r++)
        {
            for (var m = 0; m < meters; m++)
            {
                // Meters of their own per call: a meter that saw a later minute would drop an earlier one as too late.
                var id = $"MTR-{77_000_000 + batch * 10_000 + r * 1000 + m:D8}";
                registrations.Add((id, Regions[r]));
                for (var s = 0; s < 6; s++)
                {
                    readings.Add(new TelemetryReading
                    {
                        MeterId = id, Timestamp = minute.AddSeconds(s * 10), Voltage = 230, Current = kw * 1000 / 230, PowerKw = kw,
                        EnergyKwh = kw / 360, Region = Regions[r],
                    });
                }
            }
        }
        await App.Services.GetRequiredService<MeterRegistry>().EnsureRegisteredAsync(registrations);
        KafkaNative.EnsureLoaded();
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = KafkaBootstrap, Acks = Acks.All }).Build();
        foreach (var reading in readings)
            producer.Produce(Topics.RawReadings, new Message<string, string> { Key = reading.MeterId, Value = JsonSerializer.Serialize(reading) });
        producer.Flush(TimeSpan.FromSeconds(30));
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
