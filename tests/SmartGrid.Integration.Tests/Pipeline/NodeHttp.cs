using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SmartGrid.Node;

namespace SmartGrid.Integration.Tests.Pipeline;

/// <summary>The gateway of a <see cref="PipelineNode"/> as a client sees it: logged in, asking until the pipeline has caught up.</summary>
public static class NodeHttp
{
    public static string Q(DateTimeOffset t) => Uri.EscapeDataString(t.ToString("O"));

    public static async Task<HttpClient> LoginAsync(PipelineNode node, string email, string password)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{node.App.Services.GetRequiredService<SmartGridOptions>().Http.GatewayPort}") };
        var login = await http.PostAsJsonAsync("/api/v1/auth/login", new { email, password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer",
            (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString());
        return http;
    }

    /// <summary>Polls a route until its answer satisfies <paramref name="done"/> (the pipeline is asynchronous), at most 90 s.</summary>
    public static async Task<JsonElement> WaitForAsync(HttpClient http, string route, Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            var answer = await http.GetFromJsonAsync<JsonElement>(route);
            if (done(answer)) return answer;
            if (DateTime.UtcNow > deadline) Assert.Fail($"{route} never settled; last answer: {answer}");
            await Task.Delay(250);
        }
    }
}
