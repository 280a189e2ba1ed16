using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using Akka.Actor;
using SmartGrid.Channels;
using SmartGrid.Contracts;
using SmartGrid.Domain.Telemetry;
using SmartGrid.Services;
using SmartGrid.Services.Notifications;
using SmartGrid.Services.Tests.Notifications;

namespace SmartGrid.Gateway.Tests;

/// <summary>A new notification address gets nothing but its confirmation code until confirmed (issue 12, finding 6).</summary>
[Collection(GatewayCollection.Name)]
public sealed partial class AddressConfirmationSpecs(GatewayFixture gateway)
{
    private const string Route = "/api/v1/notifications/user/preferences";
    private const string Region = "Pune-West";

    [Fact]
    public async Task Should_send_only_the_code_to_a_new_address_until_its_owner_confirms_it()
    {
        using var smtp = new SmtpSink();
        using var smsProvider = new WebhookReceiver();
        var smsBase = new Uri(smsProvider.Url).GetLeftPart(UriPartial.Authority);
        // A gateway sending its codes for real, and the real NotificationManager, both to the sink and the SMS provider.
        var node = await gateway.StartSecondGatewayAsync(gateway.Storage, ownMessenger: true, settings: new Dictionary<string, string?>
        {
            ["SmartGrid:Gateway:DevelopmentMailDrop"] = "",
            ["SmartGrid:Notifications:Smtp:Host"] = "127.0.0.1",
            ["SmartGrid:Notifications:Smtp:Port"] = smtp.Port.ToString(),
            ["SmartGrid:Notifications:Smtp:StartTlsWhenAvailable"] = "false",
            ["SmartGrid:Notifications:Sms:BaseUrl"] = smsBase,
            ["SmartGrid:Notifications:Sms:AccountSid"] = "AC1",
            ["SmartGrid:Notifications:Sms:AuthToken"] = "sms-token",
        });
        var settings = new NotificationSettings
        {
            Smtp = new SmtpSettings { Host = "127.0.0.1", Port = smtp.Port, StartTlsWhenAvailable = false },
            Sms = new SmsSettings { BaseUrl = smsBase, AccountSid = "AC1", AuthToken = "sms-token" },
            RetryBaseDelay = TimeSpan.FromMilliseconds(50),
            Consumer = new ConsumerOptions
            {
                BootstrapServers = gateway.Broker.BootstrapServers,
                GroupId = "notify-spec-" + Guid.NewGuid().ToString("N"),
                Topics = [Topics.Alerts, Topics.TariffUpdates],
                Properties = new Dictionary<string, string> { ["heartbeat.interval.ms"] = "500", ["session.timeout.ms"] = "6000" },
            },
        };
        using var http = new HttpClient();
        var manager = gateway.Actors.ActorOf(NotificationManager.Props(settings, gateway.Storage.DataSource,
            [new EmailChannel(settings.Smtp), new SmsChannel(http, settings.Sms)]));
        try
        {
            var (_, userId, _, access) = await gateway.UserWithMeterAsync(Region);
            var accountEmail = await AccountEmailAsync(userId);
            using var user = gateway.Client(access, node);
            var victimEmail = $"victim{Guid.NewGuid():N}@example.org";
            const string victimPhone = "+15557654321";

            var saved = await (await user.PutAsJsonAsync(Route, new { channels = new[] { "email", "sms" }, email = victimEmail, phone = victimPhone })).JsonAsync();
            Assert.Equal((null, victimEmail), (saved.GetProperty("email").GetString(), saved.GetProperty("pending_email").GetString()));
            Assert.Equal((null, victimPhone), (saved.GetProperty("phone").GetString(), saved.GetProperty("pending_phone").GetString()));
            var emailCode = Code((await MailsToAsync(smtp, victimEmail, 1))[0].Message.TextBody ?? "");
            var smsCode = Code((await SmsToAsync(smsProvider, victimPhone, 1))[0]);

            // A price change is announced: to the confirmed (account) address, not to the pending ones.
            using var admin = await gateway.AdminAsync();
            var created = await (await admin.PostAsJsonAsync("/api/v1/tariff/admin/override",
                new { region = Region, price_per_kwh = 31.25m, valid_to = DateTimeOffset.UtcNow.AddHours(2), reason = "confirmation spec" }))
                .JsonAsync(HttpStatusCode.Created);
            await MailsToAsync(smtp, accountEmail, 1);
            Assert.Single(smtp.Messages, m => m.To.Contains(victimEmail));
            Assert.Single(await SmsToAsync(smsProvider, victimPhone, 1, settle: true));

            // Only the code sent there confirms the address.
            var wrong = emailCode == "000000" ? "111111" : "000000";
            await (await user.PostAsJsonAsync($"{Route}/confirm", new { address = "email", code = wrong })).FieldErrorAsync("code");
            Assert.Contains("must be email or phone", await (await user.PostAsJsonAsync($"{Route}/confirm", new { address = "fax", code = wrong })).FieldErrorAsync("address"));
            await (await user.PostAsJsonAsync($"{Route}/confirm", new { address = "phone", code = emailCode == smsCode ? wrong : emailCode })).FieldErrorAsync("code");
            var confirmed = await (await user.PostAsJsonAsync($"{Route}/confirm", new { address = "email", code = emailCode })).JsonAsync();
            Assert.Equal(victimEmail, confirmed.GetProperty("email").GetString());
            Assert.Equal(System.Text.Json.JsonValueKind.Null, confirmed.GetProperty("pending_email").ValueKind);
            confirmed = await (await user.PostAsJsonAsync($"{Route}/confirm", new { address = "phone", code = smsCode })).JsonAsync();
            Assert.Equal(victimPhone, confirmed.GetProperty("phone").GetString());

            // Confirmed: the next change (the override lifted) reaches the new addresses.
            await (await admin.DeleteAsync($"/api/v1/tariff/admin/override/{created.GetProperty("override_id").GetGuid()}")).JsonAsync();
            await MailsToAsync(smtp, victimEmail, 2);
            await SmsToAsync(smsProvider, victimPhone, 2);
        }
        finally
        {
            await manager.GracefulStop(TimeSpan.FromSeconds(10));
        }
    }

    private async Task<string> AccountEmailAsync(Guid userId)
    {
        await using var cmd = gateway.Storage.DataSource.CreateCommand("SELECT email FROM users WHERE id = $1");
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = userId });
        return (string)(await cmd.ExecuteScalarAsync())!;
    }

    private static async Task<IReadOnlyList<ReceivedMail>> MailsToAsync(SmtpSink smtp, string address, int count)
    {
        await Scenario.EventuallyAsync(() => Task.FromResult(smtp.Messages.Count(m => m.To.Contains(address)) >= count), $"{count} mail(s) to {address}", 60);
        return smtp.Messages.Where(m => m.To.Contains(address)).ToArray();
    }

    /// <summary>The bodies of the SMS sent to <paramref name="phone"/> once there are <paramref name="count"/>; <paramref name="settle"/>: a few seconds later, to catch any extra.</summary>
    private static async Task<IReadOnlyList<string>> SmsToAsync(WebhookReceiver provider, string phone, int count, bool settle = false)
    {
        IReadOnlyList<string> Bodies() => provider.Requests
            .Select(r => System.Web.HttpUtility.ParseQueryString(Encoding.UTF8.GetString(r.Body)))
            .Where(form => form["To"] == phone).Select(form => form["Body"] ?? "").ToArray();
        await Scenario.EventuallyAsync(() => Task.FromResult(Bodies().Count >= count), $"{count} SMS to {phone}", 60);
        if (settle)
            await Task.Delay(TimeSpan.FromSeconds(3));
        return Bodies();
    }

    private static string Code(string text) => SixDigits().Match(text).Value;

    [GeneratedRegex(@"\b[0-9]{6}\b")]
    private static partial Regex SixDigits();
}
