using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SmartGrid.Channels;
using SmartGrid.Contracts;
using SmartGrid.Services.Hosting;
using SmartGrid.Services.Notifications;

namespace SmartGrid.Services.Tests;

/// <summary>SmartGrid:Services and SmartGrid:Notifications from configuration, as the node reads them.</summary>
public sealed class ConfigurationSpecs
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void Should_bind_every_services_key()
    {
        var options = ServicesSettings.ReadGridServices(Config(
            ("SmartGrid:Services:Tariffs:Tiers:0:Name", "off-peak"), ("SmartGrid:Services:Tariffs:Tiers:0:SurchargePercent", "-5"),
            ("SmartGrid:Services:Tariffs:Tiers:1:Name", "busy"), ("SmartGrid:Services:Tariffs:Tiers:1:FromLoadPercent", "70"),
            ("SmartGrid:Services:Tariffs:Tiers:1:SurchargePercent", "15"),
            ("SmartGrid:Services:Tariffs:Tiers:2:Name", "peak"), ("SmartGrid:Services:Tariffs:Tiers:2:FromLoadPercent", "95"),
            ("SmartGrid:Services:Tariffs:Tiers:2:FromInclusive", "false"), ("SmartGrid:Services:Tariffs:Tiers:2:SurchargePercent", "50"),
            ("SmartGrid:Services:Tariffs:PublishThresholdPercent", "3.5"),
            ("SmartGrid:Services:Tariffs:DefaultBasePricePerKwh", "6.50"),
            ("SmartGrid:Services:Tariffs:CacheTtl", "12:00:00"),
            ("SmartGrid:Services:Tariffs:OverrideCheckInterval", "00:00:30"),
            ("SmartGrid:Services:Alerts:Overload:ThresholdPercent", "90"),
            ("SmartGrid:Services:Alerts:Overload:WindowsRequired", "4"),
            ("SmartGrid:Services:Alerts:Overload:Span", "00:20:00"),
            ("SmartGrid:Services:Alerts:CriticalLoadPercent", "110"),
            ("SmartGrid:Services:Alerts:OverloadClearPercent", "75"),
            ("SmartGrid:Services:Alerts:OverloadClearWindows", "5"),
            ("SmartGrid:Services:Alerts:AnomalyClearWindows", "4"),
            ("SmartGrid:Services:Alerts:OutageCadenceWindows", "10"),
            ("SmartGrid:Services:Alerts:StormShare", "0.25"),
            ("SmartGrid:Services:Alerts:StormSpan", "00:03:00"),
            ("SmartGrid:Services:Alerts:OutageSilence", "00:20:00"),
            ("SmartGrid:Services:Alerts:OutageCheckInterval", "00:02:00"),
            ("SmartGrid:Services:Alerts:OutageLookback", "06:00:00"),
            ("SmartGrid:Services:DeadLetterTopic", "services_dead_letters")));

        var tariffs = options.Tariffs;
        Assert.Equal(["off-peak", "busy", "peak"], tariffs.Pricing.Tiers.Select(t => t.Name));
        Assert.Equal(6.50m * 0.95m, tariffs.Pricing.PriceFor(6.50m, 69.9));
        Assert.Equal(6.50m * 1.15m, tariffs.Pricing.PriceFor(6.50m, 95));
        Assert.Equal(6.50m * 1.50m, tariffs.Pricing.PriceFor(6.50m, 95.1));
        Assert.Equal((3.5m, 6.50m, TimeSpan.FromHours(12), TimeSpan.FromSeconds(30)),
            (tariffs.PublishThresholdPercent, tariffs.DefaultBasePricePerKwh, tariffs.CacheTtl, tariffs.OverrideCheckInterval));
        var alerts = options.Alerts;
        Assert.Equal((90d, 4, TimeSpan.FromMinutes(20)), (alerts.Overload.ThresholdPercent, alerts.Overload.WindowsRequired, alerts.Overload.Span));
        Assert.Equal((110d, 75d, 5), (alerts.CriticalLoadPercent, alerts.OverloadClearPercent, alerts.OverloadClearWindows));
        Assert.Equal((4, 10, 0.25, TimeSpan.FromMinutes(3)), (alerts.AnomalyClearWindows, alerts.OutageCadenceWindows, alerts.StormShare, alerts.StormSpan));
        Assert.Equal((TimeSpan.FromMinutes(20), TimeSpan.FromMinutes(2), TimeSpan.FromHours(6)),
            (alerts.OutageSilence, alerts.OutageCheckInterval, alerts.OutageLookback));
        // What the managers consume with on a node (its Kafka set where they start).
        Assert.Equal(("services_dead_letters", "services_dead_letters"),
            (options.TariffsFor(null).Consumer.DeadLetterTopic, options.AlertsFor(null).Consumer.DeadLetterTopic));
        // The seed's consumer groups are not configuration.
        Assert.Equal(("tariff-service-group", "alert-service-group"), (tariffs.Consumer.GroupId, alerts.Consumer.GroupId));
    }

    [Fact]
    public void Should_keep_the_defaults_for_absent_keys()
    {
        var options = ServicesSettings.ReadGridServices(Config());
        var defaults = new GridServicesOptions();
        Assert.Equal(defaults.Alerts, options.Alerts with { Consumer = defaults.Alerts.Consumer });
        Assert.Equal(defaults.Tariffs, options.Tariffs with { Consumer = defaults.Tariffs.Consumer });
        Assert.Equal(["regional_aggregates", "tariff_overrides"], options.Tariffs.Consumer.Topics);
        Assert.Equal(("dead_letters", "tariff-service-group"), (options.TariffsFor(null).Consumer.DeadLetterTopic, options.Tariffs.Consumer.GroupId));
        Assert.Same(Domain.Grid.TariffTiers.Default, options.Tariffs.Pricing);
        var notifications = ServicesSettings.ReadNotifications(Config());
        Assert.Equal(new NotificationSettings().Smtp, notifications.Smtp);
        Assert.Equal("dead_letters", notifications.Consumer.DeadLetterTopic);
    }

    [Fact]
    public void Should_bind_every_notifications_key()
    {
        var settings = ServicesSettings.ReadNotifications(Config(
            ("SmartGrid:Notifications:Smtp:Host", "mail.grid.test"), ("SmartGrid:Notifications:Smtp:Port", "2525"),
            ("SmartGrid:Notifications:Smtp:From", "Grid <grid@grid.test>"), ("SmartGrid:Notifications:Smtp:StartTlsWhenAvailable", "false"),
            ("SmartGrid:Notifications:Smtp:UserName", "relay"), ("SmartGrid:Notifications:Smtp:Password", "relay-secret"),
            ("SmartGrid:Notifications:Smtp:Timeout", "00:00:20"),
            ("SmartGrid:Notifications:Webhook:AllowedTargets:0", "10.20.0.7:8443"), ("SmartGrid:Notifications:Webhook:AllowedTargets:1", "[fd00::7]:443"),
            ("SmartGrid:Notifications:Webhook:Timeout", "00:00:03"),
            ("SmartGrid:Notifications:Sms:BaseUrl", "http://127.0.0.1:8081"), ("SmartGrid:Notifications:Sms:AccountSid", "AC123"),
            ("SmartGrid:Notifications:Sms:AuthToken", "sms-token"), ("SmartGrid:Notifications:Sms:From", "+15550100"),
            ("SmartGrid:Notifications:Push:BaseUrl", "https://push.grid.test"), ("SmartGrid:Notifications:Push:ProjectId", "grid-app"),
            ("SmartGrid:Notifications:Push:AccessToken", "push-token"),
            ("SmartGrid:Notifications:MaxAttempts", "5"), ("SmartGrid:Notifications:RetryBaseDelay", "00:00:02"),
            ("SmartGrid:Notifications:MaxConcurrentDeliveries", "8"), ("SmartGrid:Notifications:MaxPerRecipientPerHour", "5"),
            ("SmartGrid:Notifications:DigestBelow", "medium"), ("SmartGrid:Notifications:DigestInterval", "00:30:00"),
            ("SmartGrid:Notifications:ReminderIntervals:critical", "00:05:00"), ("SmartGrid:Notifications:MaxReminders", "3"),
            ("SmartGrid:Notifications:EscalationCheckInterval", "00:00:05"),
            ("SmartGrid:Notifications:Templates:tariff_increased:Subject", "Price up in {{ region }}")));

        Assert.Equal(("medium", TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(5), 3, TimeSpan.FromSeconds(5)),
            (settings.DigestBelow, settings.DigestInterval, settings.ReminderIntervals["critical"], settings.MaxReminders, settings.EscalationCheckInterval));
        Assert.Equal(new SmtpSettings
        {
            Host = "mail.grid.test", Port = 2525, From = "Grid <grid@grid.test>", StartTlsWhenAvailable = false, UserName = "relay",
            Password = "relay-secret", Timeout = TimeSpan.FromSeconds(20),
        }, settings.Smtp);
        Assert.Equal(["10.20.0.7:8443", "[fd00::7]:443"], settings.Webhook.AllowedTargets);
        Assert.Equal(TimeSpan.FromSeconds(3), settings.Webhook.Timeout);
        Assert.Equal(new SmsSettings { BaseUrl = "http://127.0.0.1:8081", AccountSid = "AC123", AuthToken = "sms-token", From = "+15550100" },
            settings.Sms);
        Assert.Equal(new PushSettings { BaseUrl = "https://push.grid.test", ProjectId = "grid-app", AccessToken = "push-token" }, settings.Push);
        Assert.Equal((5, TimeSpan.FromSeconds(2), 8, 5),
            (settings.MaxAttempts, settings.RetryBaseDelay, settings.MaxConcurrentDeliveries, settings.MaxPerRecipientPerHour));

        // Registered from configuration: all four channels, and the replaced template part.
        var services = new ServiceCollection().AddNotifications(Config(
            ("SmartGrid:Notifications:Sms:BaseUrl", "http://127.0.0.1:8081"), ("SmartGrid:Notifications:Sms:AccountSid", "AC123"),
            ("SmartGrid:Notifications:Sms:AuthToken", "sms-token"),
            ("SmartGrid:Notifications:Push:BaseUrl", "https://push.grid.test"), ("SmartGrid:Notifications:Push:ProjectId", "grid-app"),
            ("SmartGrid:Notifications:Push:AccessToken", "push-token"),
            ("SmartGrid:Notifications:Templates:tariff_increased:Subject", "Price up in {{ region }}"))).BuildServiceProvider();
        Assert.Equal(["email", "webhook", "sms", "push"], services.GetServices<INotificationChannel>().Select(c => c.Name));
        var rendered = services.GetRequiredService<NotificationTemplates>().Render(NotificationTemplates.TariffIncreased,
            new Dictionary<string, object?> { ["region"] = "Nashik", ["old_price"] = "8.00", ["new_price"] = "9.60" });
        Assert.Equal("Price up in Nashik", rendered.Subject);
        Assert.Contains("from 8.00 to 9.60", rendered.Text);
    }

    [Theory]
    [InlineData("SmartGrid:Services:Alerts:Overload:WindowsRequired", "0", "SmartGrid:Services:Alerts:Overload:WindowsRequired")]
    [InlineData("SmartGrid:Services:Alerts:OutageSilence", "00:01:00", "SmartGrid:Services:Alerts:OutageSilence")]
    [InlineData("SmartGrid:Services:Alerts:OutageSilence", "soon", "SmartGrid:Services:Alerts:OutageSilence")]
    [InlineData("SmartGrid:Services:Alerts:CriticalLoadPercent", "80", "SmartGrid:Services:Alerts:CriticalLoadPercent")]
    [InlineData("SmartGrid:Services:Alerts:OverloadTreshold", "80", "OverloadTreshold")]
    [InlineData("SmartGrid:Services:Alerts:OverloadClearPercent", "90", "SmartGrid:Services:Alerts:OverloadClearPercent")]
    [InlineData("SmartGrid:Services:Alerts:AnomalyClearWindows", "0", "SmartGrid:Services:Alerts:AnomalyClearWindows")]
    [InlineData("SmartGrid:Services:Alerts:OutageCadenceWindows", "0", "SmartGrid:Services:Alerts:OutageCadenceWindows")]
    [InlineData("SmartGrid:Services:Alerts:StormShare", "1.5", "SmartGrid:Services:Alerts:StormShare")]
    [InlineData("SmartGrid:Services:Tariffs:PublishThresholdPercent", "-1", "SmartGrid:Services:Tariffs:PublishThresholdPercent")]
    [InlineData("SmartGrid:Services:Tariffs:Tiers:0:FromLoadPercent", "10", "SmartGrid:Services:Tariffs:Tiers:0:FromLoadPercent")]
    [InlineData("SmartGrid:Notifications:Smtp:Port", "70000", "SmartGrid:Notifications:Smtp:Port")]
    [InlineData("SmartGrid:Notifications:Smtp:From", "not an address", "SmartGrid:Notifications:Smtp:From")]
    [InlineData("SmartGrid:Notifications:Webhook:AllowedTargets:0", "intranet.local:80", "SmartGrid:Notifications:Webhook:AllowedTargets:0")]
    [InlineData("SmartGrid:Notifications:Webhook:AllowedTargets:0", "10.0.0.0/33", "SmartGrid:Notifications:Webhook:AllowedTargets:0")]
    // One key for all webhooks is gone: each subscription has its own secret, and an old setting must not pass silently.
    [InlineData("SmartGrid:Notifications:Webhook:Secret", "change-me", "Secret")]
    [InlineData("SmartGrid:Notifications:Sms:BaseUrl", "ftp://sms", "SmartGrid:Notifications:Sms:BaseUrl")]
    [InlineData("SmartGrid:Notifications:Push:BaseUrl", "http://push.test", "SmartGrid:Notifications:Push:ProjectId")]
    [InlineData("SmartGrid:Notifications:MaxAttempts", "0", "SmartGrid:Notifications:MaxAttempts")]
    [InlineData("SmartGrid:Notifications:MaxConcurrentDeliveries", "0", "SmartGrid:Notifications:MaxConcurrentDeliveries")]
    [InlineData("SmartGrid:Notifications:MaxPerRecipientPerHour", "-1", "SmartGrid:Notifications:MaxPerRecipientPerHour")]
    [InlineData("SmartGrid:Notifications:DigestBelow", "urgent", "SmartGrid:Notifications:DigestBelow")]
    [InlineData("SmartGrid:Notifications:ReminderIntervals:urgent", "00:05:00", "SmartGrid:Notifications:ReminderIntervals:urgent")]
    [InlineData("SmartGrid:Notifications:ReminderIntervals:high", "-00:05:00", "SmartGrid:Notifications:ReminderIntervals:high")]
    [InlineData("SmartGrid:Notifications:EscalationCheckInterval", "00:00:00", "SmartGrid:Notifications:EscalationCheckInterval")]
    [InlineData("SmartGrid:Notifications:Templates:alert_exploded:Subject", "x", "alert_exploded")]
    [InlineData("SmartGrid:Notifications:Templates:alert_created:Text", "{% if %}", "alert_created:Text")]
    public void Should_refuse_an_invalid_value_naming_its_key(string key, string value, string named)
    {
        var config = Config((key, value), ("SmartGrid:Services:Tariffs:Tiers:0:Name", "normal"));
        var error = Assert.Throws<InvalidOperationException>(() =>
        {
            ServicesSettings.ReadGridServices(config);
            ServicesSettings.ReadNotifications(config);
        });
        Assert.Contains(named, error.Message);
    }

    [Fact]
    public void Should_bind_the_nodes_appsettings()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "src", "SmartGrid.Node", "appsettings.json")))
            directory = directory.Parent;
        Assert.NotNull(directory);
        var config = new ConfigurationBuilder().AddJsonFile(Path.Combine(directory.FullName, "src", "SmartGrid.Node", "appsettings.json")).Build();

        var options = ServicesSettings.ReadGridServices(config);
        var notifications = ServicesSettings.ReadNotifications(config);
        Assert.Equal((TimeSpan.FromMinutes(10), 80d, 3), (options.Alerts.OutageSilence, options.Alerts.OverloadClearPercent, options.Alerts.OverloadClearWindows));
        Assert.Equal(85, options.Alerts.Overload.ThresholdPercent);
        Assert.Equal(9.60m, options.Tariffs.Pricing.PriceFor(8.00m, 82));
        Assert.Equal(25, notifications.Smtp.Port);
    }
}
