using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using SmartGrid.Testing;

namespace SmartGrid.Gateway.Tests;

/// <summary>
/// The development run's mail sink (issue 14, item 8): with the Development settings of the node, a
/// sign-up's verification code travels over SMTP to smtp4dev, where a person (here its REST API) reads it.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class MailSinkSpecs(GatewayFixture gateway)
{
    [Fact]
    public async Task Should_deliver_a_sign_ups_verification_code_to_the_development_mail_sink_and_not_to_logs_or_files()
    {
        await using var sink = await Smtp4dev.StartAsync();
        // The node's own appsettings.Development.json, with the SMTP port ./build.sh run passes (the sink's).
        var development = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(NodeProcess.RepositoryRoot(), "src", "SmartGrid.Node", "appsettings.Development.json"))
            .Build().AsEnumerable().Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value);
        development["SmartGrid:Notifications:Smtp:Port"] = sink.SmtpPort.ToString();
        var log = new CapturedLog();
        var node = await gateway.StartSecondGatewayAsync(gateway.Storage, settings: development, ownMessenger: true, log: log);
        var email = $"sink{Guid.NewGuid():N}@example.com";
        using var client = gateway.Client(baseAddress: node);

        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/api/v1/auth/register", new { email, password = "Correct-Horse-42" })).StatusCode);

        var text = await sink.WaitForTextAsync(email, TimeSpan.FromSeconds(60));
        var code = Regex.Match(text, @"\b[0-9]{6}\b").Value;
        Assert.Matches("^[0-9]{6}$", code);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/v1/auth/verify-otp", new { email, code })).StatusCode);
        Assert.DoesNotContain(log.Lines, line => line.Contains(code, StringComparison.Ordinal));
        var drop = Path.GetFullPath(".data/mail");
        Assert.False(Directory.Exists(drop) && Directory.GetFiles(drop, $"*{email}*").Length > 0, "the code was also written to the mail drop");
    }

    /// <summary>smtp4dev 3.15 as the repository's local dotnet tool, on free ports, in memory; killed with its process tree.</summary>
    private sealed class Smtp4dev : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly HttpClient _http;

        private Smtp4dev(Process process, int smtpPort, Uri web)
        {
            _process = process;
            SmtpPort = smtpPort;
            _http = new HttpClient { BaseAddress = web, Timeout = TimeSpan.FromSeconds(10) };
        }

        public int SmtpPort { get; }

        public static async Task<Smtp4dev> StartAsync()
        {
            var (web, smtp, imap, pop3) = (FreePort.Next(), FreePort.Next(), FreePort.Next(), FreePort.Next());
            var info = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = NodeProcess.RepositoryRoot(),
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { "tool", "run", "smtp4dev", "--", $"--urls=http://127.0.0.1:{web}", $"--smtpport={smtp}", $"--imapport={imap}",
                         $"--pop3port={pop3}", "--bindaddress=127.0.0.1", "--db=", "--nousersettings" })
                info.ArgumentList.Add(arg);
            var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var sink = new Smtp4dev(process, smtp, new Uri($"http://127.0.0.1:{web}/"));
            // Its first start on a loaded machine takes a while (it migrates its in-memory database).
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromMinutes(3))
            {
                if (process.HasExited)
                    break;
                try
                {
                    if ((await sink._http.GetAsync("api/messages")).IsSuccessStatusCode)
                        return sink;
                }
                catch (HttpRequestException) { }
                catch (TaskCanceledException) { }
                await Task.Delay(500);
            }
            await sink.DisposeAsync();
            throw new InvalidOperationException($"smtp4dev did not answer (run 'dotnet tool restore'):\n{string.Join('\n', output.TakeLast(30))}");
        }

        /// <summary>The plain text of the first message to <paramref name="address"/>, read through the sink's REST API.</summary>
        public async Task<string> WaitForTextAsync(string address, TimeSpan timeout)
        {
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < timeout)
            {
                var page = await _http.GetFromJsonAsync<JsonElement>("api/messages?pageSize=500");
                foreach (var message in page.GetProperty("results").EnumerateArray())
                {
                    if (message.GetProperty("to").EnumerateArray().Any(to => string.Equals(to.GetString(), address, StringComparison.OrdinalIgnoreCase)))
                        return await _http.GetStringAsync($"api/messages/{message.GetProperty("id").GetString()}/plaintext");
                }
                await Task.Delay(250);
            }
            throw new TimeoutException($"no message to {address} reached the sink within {timeout}");
        }

        public async ValueTask DisposeAsync()
        {
            _http.Dispose();
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
            _process.Dispose();
        }
    }
}
