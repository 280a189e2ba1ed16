using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Confluent.Kafka;
using Deque.AxeCore.Playwright;
using Microsoft.Extensions.DependencyInjection;
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

    /// <summary>
    /// The newest complete 1-minute row per region, as the overview must show it: heard from at least the node's
    /// CompleteWindowShare (0.01 in these specs) of the meters registered in the region.
    /// </summary>
    private const string NewestRows =
        """
        SELECT DISTINCT ON (a.region) a.region, a.load_percent FROM regional_aggregates_1m a
        WHERE a.meter_count >= 0.01 * (SELECT count(*) FROM meters m WHERE m.region = a.region)
        ORDER BY a.region, a.window_start DESC
        """;

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
    public async Task Should_keep_showing_the_newest_complete_window_when_a_partial_one_arrives_live()
    {
        // A region of this spec's own: 400 registered meters that never report, so a window needs 5 meters to be complete.
        const string region = "Mumbai-North";
        await node.App.Services.GetRequiredService<SmartGrid.Storage.MeterRegistry>()
            .EnsureRegisteredAsync(Enumerable.Range(0, 400).Select(m => ($"MTR-{78_100_000 + m:D8}", region)));
        var page = await node.LoginAsync(Operator);
        await WaitLiveAsync(page);
        var row = page.Locator($"tr[data-region='{region}']");

        var complete = Minute(-6);
        await node.ProduceAsync(Enumerable.Range(0, 10).Select(m => ($"MTR-{78_200_000 + m:D8}", region)).ToList(), complete, kw: 5.0);
        var completeLoad = await LoadOfAsync(region, complete, meters: 10);
        await Assertions.Expect(row).ToHaveAttributeAsync("data-load-percent", completeLoad.ToString("R", CultureInfo.InvariantCulture), new() { Timeout = Wait });

        // One meter of 410 in a newer window: on the stream it is the newest window, but not the region's load.
        var partial = Minute(-5);
        await node.ProduceAsync([($"MTR-{78_300_000:D8}", region)], partial, kw: 20.0);
        var partialLoad = await LoadOfAsync(region, partial, meters: 1);
        await page.WaitForFunctionAsync(
            $"() => {{ const r = document.querySelector(\"tr[data-region='{region}']\"); return r && Date.parse(r.dataset.partialWindow) === {partial.ToUnixTimeMilliseconds()}; }}",
            null, new() { Timeout = Wait });
        Assert.Equal(completeLoad.ToString("R", CultureInfo.InvariantCulture), await row.GetAttributeAsync("data-load-percent"));
        Assert.NotEqual(completeLoad, partialLoad);
        await Assertions.Expect(row.Locator(".partial")).ToBeVisibleAsync();

        // A reload shows the same.
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator($"tr[data-region='{region}']")).ToHaveAttributeAsync("data-load-percent",
            completeLoad.ToString("R", CultureInfo.InvariantCulture), new() { Timeout = Wait });
    }

    [Fact]
    public async Task Should_list_a_regions_meters_with_their_status_and_find_one_by_id()
    {
        var old = await node.SceneryAsync();
        var fresh = Enumerable.Range(0, 3).Select(m => ($"MTR-{78_400_000 + m:D8}", "Nashik")).ToList();
        await node.ProduceAsync(fresh, Minute(-1), kw: 2.0);
        await node.EventuallyAsync($"SELECT meter_id FROM aggregates_1m WHERE meter_id LIKE 'MTR-784000%'", rows => rows.Count == fresh.Count);

        var page = await node.LoginAsync(Operator);
        await page.GotoAsync("/#/region/Nashik");
        await page.Locator("#meter-search").FillAsync("784000");
        await page.Locator("#meter-search").PressAsync("Enter");
        var rows = page.Locator("#region-meters tr[data-meter]");
        await Assertions.Expect(rows).ToHaveCountAsync(fresh.Count, new() { Timeout = Wait });
        foreach (var (id, _) in fresh)
            await Assertions.Expect(page.Locator($"tr[data-meter='{id}']")).ToHaveAttributeAsync("data-status", "reporting");

        // The scenery's meters reported 39-50 minutes ago: their actors have passivated since.
        await page.Locator("#meter-search").FillAsync(old);
        await page.Locator("#meter-search").PressAsync("Enter");
        await Assertions.Expect(page.Locator($"tr[data-meter='{old}']")).ToHaveAttributeAsync("data-status", "passivated", new() { Timeout = Wait });
        await Assertions.Expect(rows).ToHaveCountAsync(1);

        await page.Locator($"tr[data-meter='{old}'] a").ClickAsync();
        await Assertions.Expect(page.Locator("#page h1")).ToHaveTextAsync($"Meter {old}", new() { Timeout = Wait });
    }

    [Fact]
    public async Task Should_mark_a_meters_anomalies_and_overlay_its_baseline()
    {
        var meter = await node.SceneryAsync();
        node.ProduceAnomaly(meter, "Nashik", DateTimeOffset.UtcNow.AddMinutes(-2));
        await node.EventuallyAsync($"SELECT alert_id FROM alerts WHERE meter_id = '{meter}' AND type = 'ANOMALY'", rows => rows.Count > 0);

        var page = await node.LoginAsync(Operator);
        await page.GotoAsync($"/#/meter/{meter}");
        await Assertions.Expect(page.Locator("#anomalies tr[data-anomaly]")).ToHaveCountAsync(
            (await node.QueryAsync($"SELECT alert_id FROM alerts WHERE meter_id = '{meter}' AND type = 'ANOMALY' AND last_seen_at > now() - interval '1 day'")).Count,
            new() { Timeout = Wait });
        // Each power chart's legend names the baseline and the anomaly marks (the figures are drawn on a canvas).
        await Assertions.Expect(page.Locator(".u-legend", new() { HasText = "baseline kW" })).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator(".u-legend", new() { HasText = "anomaly" })).ToHaveCountAsync(2);
    }

    [Fact]
    public async Task Should_chart_the_price_history_of_the_operators_regions()
    {
        await node.SceneryAsync();
        var page = await node.LoginAsync(Operator);
        await page.GotoAsync("/#/tariffs");
        await Assertions.Expect(page.Locator("#page h1")).ToHaveTextAsync("Tariffs", new() { Timeout = Wait });
        var changes = await node.QueryAsync("SELECT tariff_id FROM tariffs WHERE effective_from >= now() - interval '7 days'");
        await Assertions.Expect(page.Locator("#price-history tbody tr")).ToHaveCountAsync(Math.Min(30, changes.Count), new() { Timeout = Wait });
        Assert.True(await page.Locator(".chart canvas").CountAsync() >= 1);
    }

    [Fact]
    public async Task Should_save_a_USERs_notification_preferences_into_the_database()
    {
        var page = await node.LoginAsync(User);
        await Assertions.Expect(page.Locator("#page h1")).ToHaveTextAsync("My energy", new() { Timeout = Wait });
        var form = page.Locator("#prefs");
        await form.GetByLabel("email", new() { Exact = true }).CheckAsync();
        await page.Locator("#p-severity").SelectOptionAsync("high");
        await page.Locator("#p-quiet-start").FillAsync("22:30");
        await page.Locator("#p-quiet-end").FillAsync("06:15");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save preferences" }).ClickAsync();
        await Assertions.Expect(page.Locator("#prefs-status")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^Saved"), new() { Timeout = Wait });

        var saved = await node.QueryAsync(
            $"SELECT p.min_severity, p.quiet_hours_start, p.quiet_hours_end, 'email' = ANY (p.channels) FROM notification_preferences p JOIN users u ON u.id = p.user_id WHERE u.email = '{User}'");
        Assert.Equal(["high|22:30|06:15|True"], saved);

        // A wrong value is the server's to refuse, and the page says which field.
        await page.Locator("#p-phone").FillAsync("12345");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save preferences" }).ClickAsync();
        await Assertions.Expect(page.Locator("#prefs .error")).ToContainTextAsync("phone", new() { Timeout = Wait });
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
        await page.GetByLabel("Note for acknowledging", new() { Exact = false }).FillAsync("crew sent to the feeder");
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm acknowledge" }).ClickAsync();

        var status = await node.EventuallyAsync($"SELECT status, acknowledged_by IS NOT NULL FROM alerts WHERE alert_id = '{Guid.Parse(alertId!)}'",
            rows => rows.SequenceEqual(["acknowledged|True"]));
        Assert.Equal(["acknowledged|True"], status);
        await Assertions.Expect(page.Locator($"tr[data-alert-id='{alertId}']")).ToHaveAttributeAsync("data-status", "acknowledged", new() { Timeout = Wait });

        // The note went with it, into the alert's audit trail.
        Assert.Equal(["crew sent to the feeder"], await node.QueryAsync(
            $"SELECT note FROM alert_acknowledgments WHERE alert_id = '{Guid.Parse(alertId!)}' AND action = 'acknowledged'"));

        // Its timeline: raised, then acknowledged by the operator, by name, with the note.
        await page.Locator($"tr[data-alert-id='{alertId}']").GetByRole(AriaRole.Button, new() { Name = "Timeline" }).ClickAsync();
        var acknowledged = page.Locator(".timeline-events li[data-action='acknowledged']");
        await Assertions.Expect(acknowledged).ToContainTextAsync($"by {Operator}", new() { Timeout = Wait });
        await Assertions.Expect(acknowledged.Locator("blockquote.note")).ToHaveTextAsync("crew sent to the feeder");
        await Assertions.Expect(page.Locator(".timeline-events li[data-action='created']")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Should_keep_an_open_timeline_and_an_unsent_note_when_another_alert_arrives_live()
    {
        var page = await node.LoginAsync(Operator);
        await page.GotoAsync("/#/alerts");
        await Assertions.Expect(page.Locator("#page h1")).ToHaveTextAsync("Alerts", new() { Timeout = Wait });
        await WaitLiveAsync(page);
        const string read = "MTR-77000504", noted = "MTR-77000505", arriving = "MTR-77000506";
        node.ProduceAnomaly(read, "Nashik", DateTimeOffset.UtcNow.AddMinutes(-3));
        node.ProduceAnomaly(noted, "Nashik", DateTimeOffset.UtcNow.AddMinutes(-3));
        var readRow = page.Locator("tr[data-alert-id]", new() { HasText = read });
        var notedRow = page.Locator("tr[data-alert-id]", new() { HasText = noted });
        await Assertions.Expect(readRow).ToBeVisibleAsync(new() { Timeout = Wait });
        await Assertions.Expect(notedRow).ToBeVisibleAsync(new() { Timeout = Wait });

        // The operator reads one alert's timeline and starts a note on another.
        await readRow.GetByRole(AriaRole.Button, new() { Name = "Timeline" }).ClickAsync();
        await Assertions.Expect(page.Locator(".timeline-events li[data-action='created']")).ToBeVisibleAsync(new() { Timeout = Wait });
        await notedRow.GetByRole(AriaRole.Button, new() { Name = "Acknowledge" }).ClickAsync();
        await page.GetByLabel("Note for acknowledging", new() { Exact = false }).FillAsync("half-written note");

        // Somebody else's alert arrives and the list is drawn again.
        node.ProduceAnomaly(arriving, "Nashik", DateTimeOffset.UtcNow.AddMinutes(-3));
        await Assertions.Expect(page.Locator("tr[data-alert-id]", new() { HasText = arriving })).ToBeVisibleAsync(new() { Timeout = Wait });

        // Both stay where they were: the timeline under its alert, the note under its alert with the text typed so far.
        var timelineRow = page.Locator("tr.timeline");
        await Assertions.Expect(timelineRow).ToHaveCountAsync(1, new() { Timeout = Wait });
        Assert.Equal(await readRow.GetAttributeAsync("data-alert-id"),
            await timelineRow.EvaluateAsync<string>("t => t.previousElementSibling.dataset.alertId"));
        var noteRow = page.Locator("tr.note-row");
        await Assertions.Expect(noteRow.Locator("textarea")).ToHaveValueAsync("half-written note");
        Assert.Equal(await notedRow.GetAttributeAsync("data-alert-id"),
            await noteRow.EvaluateAsync<string>("t => t.previousElementSibling.dataset.alertId"));
    }

    [Fact]
    public async Task Should_refuse_a_note_over_1000_characters_and_resolve_with_one_at_the_limit()
    {
        const string meter = "MTR-77000503";
        node.ProduceAnomaly(meter, "Pune-West", DateTimeOffset.UtcNow.AddMinutes(-3));
        var alertId = Guid.Parse(Assert.Single(await node.EventuallyAsync(
            $"SELECT alert_id FROM alerts WHERE meter_id = '{meter}' AND status = 'active'", rows => rows.Count == 1)));
        var page = await node.LoginAsync(Operator);
        await page.GotoAsync("/#/alerts");
        var row = page.Locator($"tr[data-alert-id='{alertId}']");
        await row.GetByRole(AriaRole.Button, new() { Name = "Resolve" }).ClickAsync(new() { Timeout = Wait });
        var note = page.GetByLabel("Note for resolving", new() { Exact = false });

        // The page stops at 1000 characters; a hand-made request with more is the server's to refuse, naming the field.
        await note.FillAsync(new string('x', 1200));
        Assert.Equal(1000, (await note.InputValueAsync()).Length);
        using var op = await node.ApiClientAsync(Operator);
        var refused = await op.PutAsJsonAsync($"/api/v1/alerts/operator/{alertId}/resolve", new { note = new string('x', 1001) });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("note", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm resolve" }).ClickAsync();
        Assert.Equal([$"resolved|{new string('x', 1000)}"], await node.EventuallyAsync(
            $"SELECT a.status, e.note FROM alerts a JOIN alert_acknowledgments e ON e.alert_id = a.alert_id AND e.action = 'resolved' WHERE a.alert_id = '{alertId}'",
            rows => rows.Count == 1));
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

    [Fact]
    public async Task Should_show_the_grid_tree_with_each_nodes_load_power_quality_and_indices_as_the_API_answers()
    {
        // Three meters of Nashik on one feeder: two on TR-CON-1 (10 kW), one on TR-CON-2. Twelve minutes of readings every 10 s,
        // 2 kW each; meter 1 sags to 190 V for 2:00-2:20 and loses its supply (0 V, 0 kW) from 5:00 until its reading at 11:00.
        var start = Minute(-28);
        string[] meters = ["MTR-78600001", "MTR-78600002", "MTR-78600003"];
        await node.PlaceAsync(meters.Select((m, i) => (m, i < 2 ? "TR-CON-1" : "TR-CON-2", "FD-CON", "Nashik")), transformerRatedKw: 10, feederRatedKw: 50,
            start.AddHours(-1));
        var readings = Enumerable.Range(0, 72).SelectMany(i => meters.Select((m, n) =>
        {
            var (volts, kw) = n > 0 ? (231.0, 2.0) : i switch { >= 12 and < 15 => (190.0, 2.0), >= 30 and < 66 => (0.0, 0.0), _ => (230.0, 2.0) };
            return new TelemetryReading
            {
                MeterId = m, Timestamp = start.AddSeconds(10 * i), Voltage = volts, Current = kw * 1000 / 230, PowerKw = kw, EnergyKwh = kw / 360, Region = "Nashik",
            };
        })).ToList();
        await node.ProduceReadingsAsync(readings);

        using var op = await node.ApiClientAsync(Operator);
        // Hand-checked over the twelve minutes: 2 customers, one sustained interruption of 6 minutes (5:00 → 11:00, a last gasp).
        var period = $"from={Q(start.AddHours(-1))}&to={Q(start.AddMinutes(12))}";
        var truth = await EventuallyJsonAsync(op, $"/api/v1/reliability/nodes/TR-CON-1?{period}", r => r.GetProperty("sustained_interruptions").GetInt32() == 1
            && r.GetProperty("interruptions")[0].GetProperty("end").ValueKind != JsonValueKind.Null);
        Assert.Equal((2, 0.5, 3.0, 6.0, 0.0), (truth.GetProperty("customers_served").GetInt32(), truth.GetProperty("saifi").GetDouble(),
            truth.GetProperty("saidi_minutes").GetDouble(), truth.GetProperty("caidi_minutes").GetDouble(), truth.GetProperty("maifi").GetDouble()));
        var cut = truth.GetProperty("interruptions")[0];
        Assert.Equal((meters[0], start.AddMinutes(5), start.AddMinutes(11), "last-gasp"), (cut.GetProperty("meter_id").GetString(),
            cut.GetProperty("start").GetDateTimeOffset(), cut.GetProperty("end").GetDateTimeOffset(), cut.GetProperty("started_by").GetString()));
        // The newest window of TR-CON-1 (minute 11): both its meters at 2 kW of its 10 kW.
        var load = await EventuallyJsonAsync(op, $"/api/v1/grid/nodes/TR-CON-1/load?resolution=1m&from={Q(start)}&to={Q(start.AddMinutes(12))}",
            l => l.GetProperty("items").EnumerateArray().Any(w => w.GetProperty("window_start").GetDateTimeOffset() == start.AddMinutes(11) && w.GetProperty("meter_count").GetInt32() == 2));
        Assert.Equal(40.0, load.GetProperty("items").EnumerateArray().Last().GetProperty("load_percent").GetDouble(), 9);
        await EventuallyJsonAsync(op, $"/api/v1/power-quality/nodes/TR-CON-1?{period}", pq => pq.GetProperty("event_counts").GetProperty("sag").GetInt32() >= 1);

        var page = await node.LoginAsync(Operator);
        await page.GotoAsync("/#/region/Nashik");
        var reliabilityAnswer = page.WaitForResponseAsync(r => r.Url.Contains("/api/v1/reliability/nodes/TR-CON-1?", StringComparison.Ordinal), new() { Timeout = Wait });
        var qualityAnswer = page.WaitForResponseAsync(r => r.Url.Contains("/api/v1/power-quality/nodes/TR-CON-1?", StringComparison.Ordinal), new() { Timeout = Wait });
        await page.Locator("#grid-link").ClickAsync(new() { Timeout = Wait });
        await Assertions.Expect(page.Locator("#page h1")).ToHaveTextAsync("Grid of Nashik", new() { Timeout = Wait });

        // The tree: every node the API answers for the region, and nothing else.
        var tree = await op.GetFromJsonAsync<JsonElement>("/api/v1/grid/topology?region=nashik");
        var feeders = tree.GetProperty("regions")[0].GetProperty("feeders").EnumerateArray().ToList();
        var ids = feeders.Select(f => f.GetProperty("id").GetString()!)
            .Concat(feeders.SelectMany(f => f.GetProperty("transformers").EnumerateArray().Select(t => t.GetProperty("id").GetString()!))).Append("Nashik").Order().ToList();
        Assert.Contains("TR-CON-1", ids);
        await Assertions.Expect(page.Locator("#grid-tree li[data-node]")).ToHaveCountAsync(ids.Count, new() { Timeout = Wait });
        Assert.Equal(ids, (await page.Locator("#grid-tree li[data-node]").EvaluateAllAsync<string[]>("l => l.map(e => e.dataset.node)")).Order().ToList());

        // Its newest load, in words as well as colour.
        var transformer = page.Locator("#grid-tree li[data-node='TR-CON-1']");
        await Assertions.Expect(transformer).ToHaveAttributeAsync("data-load-percent", new System.Text.RegularExpressions.Regex("^\\d"), new() { Timeout = Wait });
        Assert.Equal(40.0, double.Parse((await transformer.GetAttributeAsync("data-load-percent"))!, CultureInfo.InvariantCulture), 9);
        await Assertions.Expect(transformer.Locator(".node-row .load-badge").First).ToHaveTextAsync("40.0 % · normal");

        // Chosen from the keyboard: its indices and power quality, as the route answered the page.
        await transformer.Locator(".node-row .node-name").First.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("#node-title")).ToBeFocusedAsync(new() { Timeout = Wait });
        var reliability = await (await reliabilityAnswer).JsonAsync<JsonElement>();
        var detail = page.Locator("#node-detail[data-node='TR-CON-1']");
        await Assertions.Expect(detail.Locator(".quality[data-loaded='TR-CON-1']")).ToBeVisibleAsync(new() { Timeout = Wait });
        Assert.True(reliability.GetProperty("sustained_interruptions").GetInt32() >= 1);
        foreach (var index in new[] { "customers_served", "saifi", "saidi_minutes", "caidi_minutes", "maifi", "platform_silences_excluded" })
        {
            var shown = await detail.Locator($".reliability dd[data-index='{index}']").GetAttributeAsync("data-value");
            Assert.True(double.Parse(shown!, CultureInfo.InvariantCulture) == reliability.GetProperty(index).GetDouble(), $"{index}: shown {shown}, answered {reliability.GetProperty(index)}");
        }
        await Assertions.Expect(detail.Locator(".reliability tr[data-interruption]")).ToHaveCountAsync(reliability.GetProperty("interruptions").GetArrayLength());
        await Assertions.Expect(detail.Locator($".reliability tr[data-interruption='{meters[0]}']", new() { HasText = "sustained" })).ToHaveCountAsync(1);

        var quality = await (await qualityAnswer).JsonAsync<JsonElement>();
        Assert.Equal(meters[0], quality.GetProperty("worst_meters")[0].GetProperty("meter_id").GetString());
        Assert.Equal(meters[0], await detail.Locator(".power-quality tr[data-pq-meter]").First.GetAttributeAsync("data-pq-meter"));
        Assert.Equal(quality.GetProperty("compliant").ToString().ToLowerInvariant(),
            await detail.Locator(".power-quality dd[data-index='compliant']").GetAttributeAsync("data-value"));
        Assert.Equal(quality.GetProperty("within_band_share").GetDouble(),
            double.Parse((await detail.Locator(".power-quality dd[data-index='within_band_share']").GetAttributeAsync("data-value"))!, CultureInfo.InvariantCulture));
        await Assertions.Expect(detail.Locator(".power-quality tr[data-event='sag']", new() { HasText = meters[0] })).Not.ToHaveCountAsync(0);
        Assert.True(await detail.Locator("canvas").CountAsync() >= 2);

        // Folding a feeder hides its transformers, from the keyboard too.
        var fold = page.Locator("#grid-tree li[data-node='FD-CON'] > .node-row .disclose");
        await fold.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(fold).ToHaveAttributeAsync("aria-expanded", "false");
        await Assertions.Expect(transformer).ToBeHiddenAsync();
    }

    [Fact]
    public async Task Should_show_an_operator_of_another_region_no_grid_of_it()
    {
        const string email = "pune-operator@smartgrid.local";
        await node.App.Services.GetRequiredService<SmartGrid.Storage.Accounts.AccountStore>().CreateUserAsync(email, null,
            SmartGrid.Gateway.Auth.PasswordPolicy.Hash(ConsoleNode.Password), SmartGrid.Gateway.Auth.Roles.Operator, ["Pune-West"], emailVerified: true, CancellationToken.None);
        await node.SceneryAsync();

        var page = await node.LoginAsync(email);
        await page.GotoAsync("/#/grid/Nashik");
        await Assertions.Expect(page.Locator("#page .error")).ToContainTextAsync("Nashik", new() { Timeout = Wait });
        Assert.Equal(0, await page.Locator("#grid-tree").CountAsync());
        Assert.Equal(0, await page.Locator("[data-node^='TR-NASHIK'], [data-node^='FD-NASHIK']").CountAsync());

        // The attacker's own requests: the tree and a Nashik transformer's figures are refused; their own region's tree is theirs.
        using var pune = await node.ApiClientAsync(email);
        foreach (var path in new[] { "/api/v1/grid/topology?region=NASHIK", "/api/v1/grid/nodes/TR-NASHIK-1-1/load", "/api/v1/reliability/nodes/FD-NASHIK-1",
            "/api/v1/power-quality/nodes/tr-nashik-1-2" })
            Assert.True((await pune.GetAsync(path)).StatusCode == HttpStatusCode.Forbidden, path);
        var own = await pune.GetFromJsonAsync<JsonElement>("/api/v1/grid/topology");
        Assert.Equal(["Pune-West"], own.GetProperty("regions").EnumerateArray().Select(r => r.GetProperty("region").GetString()));
        await page.GotoAsync("/#/grid/Pune-West");
        await Assertions.Expect(page.Locator("#grid-tree li[data-node='TR-PUNE-WEST-1-1']")).ToBeVisibleAsync(new() { Timeout = Wait });
    }

    [Fact]
    public async Task Should_show_a_regions_reliability_and_power_quality_for_the_chosen_period()
    {
        await node.SceneryAsync();
        var page = await node.LoginAsync(Operator);
        var month = page.WaitForResponseAsync(r => r.Url.Contains("/api/v1/reliability/regions/Nashik?", StringComparison.Ordinal), new() { Timeout = Wait });
        await page.GotoAsync("/#/region/Nashik");
        var answered = await (await month).JsonAsync<JsonElement>();
        Assert.Equal(30, (answered.GetProperty("to").GetDateTimeOffset() - answered.GetProperty("from").GetDateTimeOffset()).TotalDays, 3);
        await Assertions.Expect(page.Locator(".reliability dd[data-index='customers_served']"))
            .ToHaveAttributeAsync("data-value", answered.GetProperty("customers_served").GetInt32().ToString(CultureInfo.InvariantCulture), new() { Timeout = Wait });
        Assert.True(answered.GetProperty("customers_served").GetInt32() > 0);

        var week = page.WaitForResponseAsync(r => r.Url.Contains("/api/v1/reliability/regions/Nashik?", StringComparison.Ordinal), new() { Timeout = Wait });
        var weekQuality = page.WaitForResponseAsync(r => r.Url.Contains("/api/v1/power-quality/nodes/Nashik?", StringComparison.Ordinal), new() { Timeout = Wait });
        await page.Locator("#region-period").SelectOptionAsync("7");
        var weekly = await (await week).JsonAsync<JsonElement>();
        var quality = await (await weekQuality).JsonAsync<JsonElement>();
        Assert.Equal(7, (weekly.GetProperty("to").GetDateTimeOffset() - weekly.GetProperty("from").GetDateTimeOffset()).TotalDays, 3);
        await Assertions.Expect(page.Locator(".reliability h3")).ToContainTextAsync("last 7 days", new() { Timeout = Wait });
        foreach (var index in new[] { "customers_served", "saifi", "maifi", "platform_silences_excluded" })
        {
            var value = weekly.GetProperty(index);
            var shown = await page.Locator($".reliability dd[data-index='{index}']").GetAttributeAsync("data-value");
            Assert.Equal(value.ValueKind == JsonValueKind.Null ? "" : value.GetDouble().ToString("R", CultureInfo.InvariantCulture),
                shown == "" ? "" : double.Parse(shown!, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture));
        }
        Assert.Equal(quality.GetProperty("windows").GetInt32() > 0, await page.Locator(".power-quality dd[data-index='compliant']").GetAttributeAsync("data-value") != "");
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
    [InlineData(Operator, "grid/Nashik/TR-NASHIK-1-1", 1280, 800)]
    [InlineData(Operator, "overview", 390, 844)]
    [InlineData(Operator, "grid/Nashik/TR-NASHIK-1-1", 390, 844)]
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

    private static string Q(DateTimeOffset at) => Uri.EscapeDataString(at.ToString("O", CultureInfo.InvariantCulture));

    /// <summary>A route's JSON answer once <paramref name="done"/> holds (or 60 s): the pipeline decides and stores asynchronously.</summary>
    private static async Task<JsonElement> EventuallyJsonAsync(HttpClient client, string path, Func<JsonElement, bool> done)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var answer = await client.GetFromJsonAsync<JsonElement>(path);
            if (done(answer))
                return answer;
            if (DateTime.UtcNow > until)
                throw new TimeoutException($"{path} never answered as expected: {answer}");
            await Task.Delay(500);
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

    /// <summary>The load of the region's window of <paramref name="minute"/> once all <paramref name="meters"/> are in its row (a window is revised as meters close theirs).</summary>
    private async Task<double> LoadOfAsync(string region, DateTimeOffset minute, int meters)
    {
        var stamp = minute.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        var rows = await node.EventuallyAsync(
            $"SELECT load_percent FROM regional_aggregates_1m WHERE region = '{region}' AND window_start = '{stamp}+00' AND meter_count = {meters}", r => r.Count == 1);
        return double.Parse(Assert.Single(rows), CultureInfo.InvariantCulture);
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
