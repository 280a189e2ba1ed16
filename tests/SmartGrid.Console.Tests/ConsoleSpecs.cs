using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Confluent.Kafka;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Gateway.Seeding;
using Xunit.Abstractions;

namespace SmartGrid.Console.Tests;

/// <summary>The operator console in Debian's chromium against a whole node: what each role sees, live, and refused.</summary>
public sealed class ConsoleSpecs(ConsoleNode node, ITestOutputHelper output) : IClassFixture<ConsoleNode>
{
    private const string User = DemoAccountSeeder.UserEmail;
    private const string Operator = DemoAccountSeeder.OperatorEmail;
    private const string Admin = DemoAccountSeeder.AdminEmail;
    private static readonly float Wait = 60_000;

    /// <summary>The newest 1-minute row per region, as the overview must show it.</summary>
    private const string NewestRows =
        "SELECT DISTINCT ON (region) region, load_percent FROM regional_aggregates_1m ORDER BY region, window_start DESC";

    [Theory]
    [InlineData(User, "My energy", new[] { "My energy" }, new[] { "Grid overview", "Alerts", "Tariffs", "Admin" })]
    [InlineData(Operator, "Grid overview", new[] { "Grid overview", "Alerts", "Tariffs" }, new[] { "Admin", "My energy" })]
    [InlineData(Admin, "Grid overview", new[] { "Grid overview", "Alerts", "Tariffs", "Admin" }, new[] { "My energy" })]
    public async Task Should_log_in_each_role_to_its_own_pages(string email, string home, string[] shown, string[] hidden)
    {
        var page = await node.LoginAsync(email);

        await Assertions.Expect(page.Locator("#page h1")).ToHaveTextAsync(home, new() { Timeout = Wait });
        var nav = page.GetByRole(AriaRole.Navigation, new() { Name = "Pages" });
        foreach (var link in shown)
            await Assertions.Expect(nav.GetByRole(AriaRole.Link, new() { Name = link })).ToBeVisibleAsync();
        foreach (var link in hidden)
            await Assertions.Expect(nav.GetByRole(AriaRole.Link, new() { Name = link })).ToBeHiddenAsync();
    }

    [Fact]
    public async Task Should_keep_the_refresh_token_in_an_HttpOnly_strict_cookie_and_refresh_silently_on_reload()
    {
        var page = await node.LoginAsync(Operator);

        var cookie = Assert.Single(await page.Context.CookiesAsync(), c => c.Name == "sg_refresh");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.Equal("/api/v1/auth", cookie.Path);
        Assert.Equal(0, await page.EvaluateAsync<int>("() => localStorage.length + sessionStorage.length"));
        Assert.Equal(0, await page.EvaluateAsync<int>("() => document.cookie.length"));

        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#who")).ToHaveTextAsync($"{Operator} (OPERATOR)", new() { Timeout = Wait });
        await Assertions.Expect(page.Locator("#login")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task Should_not_refresh_on_the_cookie_alone_as_a_cross_site_form_would()
    {
        var page = await node.LoginAsync(Operator);
        var cookie = Assert.Single(await page.Context.CookiesAsync(), c => c.Name == "sg_refresh");
        using var http = new HttpClient { BaseAddress = node.BaseAddress };

        // What a forged cross-site POST can send: the cookie, a simple body, no custom header.
        using var forged = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/refresh") { Content = new StringContent("a=b", null, "application/x-www-form-urlencoded") };
        forged.Headers.Add("Cookie", $"sg_refresh={cookie.Value}");
        var refused = await http.SendAsync(forged);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, refused.StatusCode);
        Assert.False(refused.Headers.Contains("Set-Cookie"));

        // The console's own request still works with the same cookie (the forged one rotated nothing) and never shows the token.
        using var own = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/refresh");
        own.Headers.Add("Cookie", $"sg_refresh={cookie.Value}");
        own.Headers.Add("X-SmartGrid-Console", "1");
        var refreshed = await http.SendAsync(own);
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        var body = await refreshed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(body.TryGetProperty("refresh_token", out _));
        Assert.Contains(refreshed.Headers.GetValues("Set-Cookie"), c => c.StartsWith("sg_refresh=", StringComparison.Ordinal)
            && c.Contains("httponly", StringComparison.OrdinalIgnoreCase) && c.Contains("samesite=strict", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Should_show_the_load_of_the_newest_rows_of_regional_aggregates_1m()
    {
        var minute = Minute(-12);
        await node.ProduceMinuteAsync(minute.AddMinutes(-1), meters: 20, kw: 1.0);
        await node.ProduceMinuteAsync(minute, meters: 30, kw: 2.5);
        var expected = await NewestAsync(minute);

        var page = await node.LoginAsync(Operator);
        foreach (var (region, load) in expected)
        {
            var row = page.Locator($"tr[data-region='{region}']");
            await Assertions.Expect(row).ToHaveAttributeAsync("data-load-percent", load.ToString("R", CultureInfo.InvariantCulture), new() { Timeout = Wait });
        }
        Assert.All(expected.Values, load => Assert.True(load > 0));

        // Page load: navigation until the region rows are on screen (Playwright's clock, printed, not asserted).
        var times = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            await page.ReloadAsync();
            await page.Locator($"tr[data-region='{ConsoleNode.Regions[0]}'][data-load-percent]").WaitForAsync(new() { Timeout = Wait });
            times.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        Report($"console page load (reload → region rows shown), ms: {string.Join(", ", times.Select(t => t.ToString("F0", CultureInfo.InvariantCulture)))}; median {Median(times):F0}");
    }

    [Fact]
    public async Task Should_update_the_overview_from_a_new_regional_window_without_a_reload()
    {
        await node.ProduceMinuteAsync(Minute(-20), meters: 10, kw: 1.0);
        await NewestAsync(Minute(-20));
        var page = await node.LoginAsync(Operator);
        await WaitLiveAsync(page);
        var region = ConsoleNode.Regions[0];
        var row = page.Locator($"tr[data-region='{region}']");
        var before = await row.GetAttributeAsync("data-load-percent");

        using var watcher = new RegionalWatcher(node.KafkaBootstrap);
        var minute = Minute(-8);
        await node.ProduceMinuteAsync(minute, meters: 40, kw: 3.0);
        var expected = (await NewestAsync(minute))[region];

        await Assertions.Expect(row).ToHaveAttributeAsync("data-load-percent", expected.ToString("R", CultureInfo.InvariantCulture), new() { Timeout = Wait });
        Assert.NotEqual(before, await row.GetAttributeAsync("data-load-percent"));
        Assert.Equal(0, await page.EvaluateAsync<int>("() => performance.getEntriesByType('navigation').length - 1"));

        var published = watcher.PublishedAt(region, minute);
        var shown = long.Parse((await row.GetAttributeAsync("data-updated-at"))!, CultureInfo.InvariantCulture);
        Report($"regional window → screen: {shown - published.ToUnixTimeMilliseconds()} ms (record on regional_aggregates at {published:O}, row updated by the event stream)");
    }

    [Fact]
    public async Task Should_show_a_new_alert_live_and_acknowledge_it_into_the_database()
    {
        var page = await node.LoginAsync(Operator);
        await page.GotoAsync("/#/alerts");
        await Assertions.Expect(page.Locator("#page h1")).ToHaveTextAsync("Alerts", new() { Timeout = Wait });
        await WaitLiveAsync(page);
        const string meter = "MTR-77000501";

        node.ProduceAnomaly(meter, "Nashik", DateTimeOffset.UtcNow.AddMinutes(-3));

        var row = page.Locator("tr[data-alert-id]", new() { HasText = meter });
        await Assertions.Expect(row).ToBeVisibleAsync(new() { Timeout = Wait });
        var alertId = await row.GetAttributeAsync("data-alert-id");
        Assert.Equal(["active"], await node.QueryAsync($"SELECT status FROM alerts WHERE alert_id = '{Guid.Parse(alertId!)}'"));

        await row.GetByRole(AriaRole.Button, new() { Name = "Acknowledge" }).ClickAsync();

        var status = await node.EventuallyAsync($"SELECT status, acknowledged_by IS NOT NULL FROM alerts WHERE alert_id = '{Guid.Parse(alertId!)}'",
            rows => rows.SequenceEqual(["acknowledged|True"]));
        Assert.Equal(["acknowledged|True"], status);
        await Assertions.Expect(page.Locator($"tr[data-alert-id='{alertId}']")).ToHaveAttributeAsync("data-status", "acknowledged", new() { Timeout = Wait });
    }

    [Fact]
    public async Task Should_create_an_override_only_once_the_ADMIN_confirms_and_lift_it()
    {
        var page = await node.LoginAsync(Admin);
        await page.GotoAsync("/#/tariffs");
        await Assertions.Expect(page.Locator("#page h1")).ToHaveTextAsync("Tariffs", new() { Timeout = Wait });
        var reason = $"console spec {Guid.NewGuid():N}"[..21];
        var accept = false;
        page.Dialog += async (_, dialog) =>
        {
            if (accept) await dialog.AcceptAsync();
            else await dialog.DismissAsync();
        };
        await page.Locator("#o-region").SelectOptionAsync("Nashik");
        await page.Locator("#o-value").FillAsync("9.5");
        await page.Locator("#o-to").FillAsync(DateTime.UtcNow.AddDays(2).ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture));
        await page.Locator("#o-reason").FillAsync(reason);
        var created = $"SELECT region, price_per_kwh, lifted_at IS NULL FROM tariff_overrides WHERE reason = '{reason}'";

        // Cancelled at the confirmation: the click sends nothing.
        await page.GetByRole(AriaRole.Button, new() { Name = "Create override" }).ClickAsync();
        Assert.Empty(await node.QueryAsync(created));

        accept = true;
        await page.GetByRole(AriaRole.Button, new() { Name = "Create override" }).ClickAsync();
        Assert.Equal(["Nashik|9.5000|True"], await node.EventuallyAsync(created, rows => rows.Count == 1));

        await page.Locator("tr", new() { HasText = reason }).GetByRole(AriaRole.Button, new() { Name = "Lift" }).ClickAsync();
        Assert.Equal(["Nashik|9.5000|False"], await node.EventuallyAsync(created, rows => rows.SequenceEqual(["Nashik|9.5000|False"])));
    }

    [Fact]
    public async Task Should_refuse_operator_pages_and_data_to_a_USER()
    {
        using var user = await node.ApiClientAsync(User);
        foreach (var (method, path) in new[]
        {
            (HttpMethod.Get, "/api/v1/grid/regions"), (HttpMethod.Get, "/api/v1/grid/regions/Nashik/load"),
            (HttpMethod.Get, "/api/v1/alerts/operator/active"), (HttpMethod.Put, $"/api/v1/alerts/operator/{Guid.NewGuid()}/acknowledge"),
            (HttpMethod.Get, "/api/v1/meters/MTR-77000001/aggregates"), (HttpMethod.Get, "/api/v1/admin/users"),
            (HttpMethod.Get, "/api/v1/tariff/admin/overrides"),
        })
        {
            var response = await user.SendAsync(new HttpRequestMessage(method, path));
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{method} {path}: {(int)response.StatusCode}");
        }

        // The live stream: the operator's carries the region's windows and alerts, the USER's none of them.
        using var op = await node.ApiClientAsync(Operator);
        await using var userStream = await EventStream.OpenAsync(user);
        await using var operatorStream = await EventStream.OpenAsync(op);
        await node.ProduceMinuteAsync(Minute(-30), meters: 5, kw: 1.0);
        node.ProduceAnomaly("MTR-77000502", "Nashik", DateTimeOffset.UtcNow.AddMinutes(-4));
        await operatorStream.WaitForAsync(e => e.Kind == "region_window");
        await operatorStream.WaitForAsync(e => e.Kind == "alert");
        // One feed offers each record to both streams at once; a moment more lets the USER's write what it would have let through.
        await userStream.WaitForAsync(e => e.Kind == "ready");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.DoesNotContain(userStream.Events, e => e.Kind is "region_window" or "alert");

        // In the browser the operator's pages send a USER home rather than show them.
        var page = await node.LoginAsync(User);
        await page.GotoAsync("/#/overview");
        await Assertions.Expect(page.Locator("#page h1")).ToHaveTextAsync("My energy", new() { Timeout = Wait });
        Assert.Equal(0, await page.Locator("tr[data-region]").CountAsync());
    }

    [Theory]
    [InlineData(Operator, "overview", 1280, 800)]
    [InlineData(Operator, "alerts", 1280, 800)]
    [InlineData(Operator, "tariffs", 1280, 800)]
    [InlineData(Operator, "region/Nashik", 1280, 800)]
    [InlineData(Operator, "meter/*", 1280, 800)]
    [InlineData(Admin, "admin", 1280, 800)]
    [InlineData(Admin, "tariffs", 1280, 800)]
    [InlineData(User, "energy", 1280, 800)]
    [InlineData(Operator, "overview", 390, 844)]
    [InlineData(User, "energy", 390, 844)]
    public async Task Should_find_no_serious_accessibility_violations(string email, string route, int width, int height)
    {
        var meter = await node.SceneryAsync();
        var page = await node.LoginAsync(email, width, height);
        await page.GotoAsync($"/#/{route.Replace("*", meter, StringComparison.Ordinal)}");
        await page.WaitForFunctionAsync($"() => document.body.dataset.page === '{route.Split('/')[0]}' && !document.querySelector('#page .loading')",
            null, new() { Timeout = Wait });

        var results = await page.RunAxe();
        var serious = results.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(serious.Count == 0, string.Join("\n", serious.Select(v => $"{v.Id} ({v.Impact}): {v.Help}: {string.Join(", ", v.Nodes.Select(n => n.Html))}")));
        // Readable at this width: nothing but a table's own scroller may scroll sideways.
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways");

        if (Environment.GetEnvironmentVariable("SMARTGRID_CONSOLE_SCREENSHOTS") is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
            var name = $"{route.Split('/')[0]}{(width < 600 ? "-phone" : "")}{(email == Admin && route == "tariffs" ? "-admin" : "")}.png";
            await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name), FullPage = true });
        }
    }

    private static DateTimeOffset Minute(int minutesAgo)
    {
        var now = DateTimeOffset.UtcNow.AddMinutes(minutesAgo);
        return new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero);
    }

    /// <summary>The newest row per region once every region has its window of <paramref name="minute"/>.</summary>
    private async Task<Dictionary<string, double>> NewestAsync(DateTimeOffset minute)
    {
        var stamp = minute.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        var rows = await node.EventuallyAsync(
            $"SELECT region FROM regional_aggregates_1m WHERE window_start = '{stamp}+00' AND region IN ('{string.Join("','", ConsoleNode.Regions)}')",
            r => r.Count == ConsoleNode.Regions.Length);
        Assert.Equal(ConsoleNode.Regions.Length, rows.Count);
        return (await node.QueryAsync(NewestRows)).Select(r => r.Split('|'))
            .Where(r => ConsoleNode.Regions.Contains(r[0]))
            .ToDictionary(r => r[0], r => double.Parse(r[1], CultureInfo.InvariantCulture));
    }

    private static Task<IJSHandle> WaitLiveAsync(IPage page) =>
        page.WaitForFunctionAsync("() => document.body.dataset.live === 'connected'", null, new() { Timeout = Wait });

    private void Report(string line)
    {
        output.WriteLine(line);
        File.AppendAllText(Path.Combine(AppContext.BaseDirectory, "console-figures.txt"), $"{DateTimeOffset.UtcNow:O} {line}\n");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    /// <summary>Reads regional_aggregates from its end, noting when each window was published.</summary>
    private sealed class RegionalWatcher : IDisposable
    {
        private readonly IConsumer<string, string> _consumer;

        public RegionalWatcher(string bootstrap)
        {
            _consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
            {
                BootstrapServers = bootstrap, GroupId = "console-specs-" + Guid.NewGuid().ToString("N"), AutoOffsetReset = AutoOffsetReset.Latest,
                EnableAutoCommit = false,
            }).Build();
            _consumer.Subscribe(Topics.RegionalAggregates);
            // Holds its partitions before anything is produced, so "latest" is before the new windows.
            var until = DateTime.UtcNow.AddSeconds(30);
            while (_consumer.Assignment.Count == 0 && DateTime.UtcNow < until)
                _consumer.Consume(TimeSpan.FromMilliseconds(100));
        }

        public DateTimeOffset PublishedAt(string region, DateTimeOffset windowStart)
        {
            var until = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < until)
            {
                if (_consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { } record)
                    continue;
                using var json = JsonDocument.Parse(record.Message.Value);
                var root = json.RootElement;
                if (root.GetProperty("region").GetString() == region && root.GetProperty("window_size").GetString() == "1m"
                    && root.GetProperty("window_start").GetDateTimeOffset() == windowStart)
                    return DateTimeOffset.FromUnixTimeMilliseconds(record.Message.Timestamp.UnixTimestampMs);
            }
            throw new TimeoutException($"no regional_aggregates record of {region} {windowStart:O}");
        }

        public void Dispose() => _consumer.Close();
    }
}
