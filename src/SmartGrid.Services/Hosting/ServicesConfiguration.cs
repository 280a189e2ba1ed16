using System.Globalization;
using Microsoft.Extensions.Configuration;
using MimeKit;
using SmartGrid.Domain.Grid;
using SmartGrid.Services.Notifications;

namespace SmartGrid.Services.Hosting;

/// <summary>
/// Reads the grid services' settings from configuration and validates them before anything starts:
/// every error names the configuration key (SmartGrid:Services:Alerts:OutageSilence…), so a node
/// with a typo or an impossible value refuses to start with one clear line.
/// </summary>
public static class ServicesConfiguration
{
    public const string ServicesSection = "SmartGrid:Services";
    public const string NotificationsSection = "SmartGrid:Notifications";

    /// <summary>SmartGrid:Services → <see cref="GridServicesOptions"/>; absent keys keep their defaults.</summary>
    public static GridServicesOptions ReadGridServices(IConfiguration configuration)
    {
        var section = configuration.GetSection(ServicesSection);
        var bound = Bind<ServicesBinding>(section);
        var defaults = new GridServicesOptions();
        var tariffs = defaults.Tariffs;
        var alerts = defaults.Alerts;
        var t = bound.Tariffs;
        var a = bound.Alerts;
        var path = ServicesSection;

        tariffs = tariffs with
        {
            Tiers = t.Tiers is { Count: > 0 } tiers ? ReadTiers(tiers, $"{path}:Tariffs:Tiers") : tariffs.Tiers,
            PublishThresholdPercent = Check(t.PublishThresholdPercent ?? tariffs.PublishThresholdPercent, v => v >= 0,
                $"{path}:Tariffs:PublishThresholdPercent", "must be >= 0"),
            DefaultBasePricePerKwh = Check(t.DefaultBasePricePerKwh ?? tariffs.DefaultBasePricePerKwh, v => v > 0,
                $"{path}:Tariffs:DefaultBasePricePerKwh", "must be > 0"),
            CacheTtl = Positive(t.CacheTtl ?? tariffs.CacheTtl, $"{path}:Tariffs:CacheTtl"),
            OverrideCheckInterval = Positive(t.OverrideCheckInterval ?? tariffs.OverrideCheckInterval, $"{path}:Tariffs:OverrideCheckInterval"),
        };

        var threshold = Check(a.OverloadThresholdPercent ?? alerts.OverloadThresholdPercent, v => v is > 0 and <= 1000,
            $"{path}:Alerts:OverloadThresholdPercent", "must be in (0, 1000]");
        alerts = alerts with
        {
            OverloadThresholdPercent = threshold,
            OverloadWindows = Check(a.OverloadWindows ?? alerts.OverloadWindows, v => v >= 1, $"{path}:Alerts:OverloadWindows", "must be >= 1"),
            OverloadSpan = Positive(a.OverloadSpan ?? alerts.OverloadSpan, $"{path}:Alerts:OverloadSpan"),
            CriticalLoadPercent = Check(a.CriticalLoadPercent ?? alerts.CriticalLoadPercent, v => v > threshold,
                $"{path}:Alerts:CriticalLoadPercent", $"must be above the overload threshold ({threshold.ToString(CultureInfo.InvariantCulture)})"),
            OverloadClearPercent = Check(a.OverloadClearPercent ?? alerts.OverloadClearPercent, v => v > 0 && v <= threshold,
                $"{path}:Alerts:OverloadClearPercent", $"must be in (0, the overload threshold ({threshold.ToString(CultureInfo.InvariantCulture)})]"),
            OverloadClearWindows = Check(a.OverloadClearWindows ?? alerts.OverloadClearWindows, v => v >= 1, $"{path}:Alerts:OverloadClearWindows", "must be >= 1"),
            AnomalyClearWindows = Check(a.AnomalyClearWindows ?? alerts.AnomalyClearWindows, v => v >= 1, $"{path}:Alerts:AnomalyClearWindows", "must be >= 1"),
            OutageCadenceWindows = Check(a.OutageCadenceWindows ?? alerts.OutageCadenceWindows, v => v >= 1, $"{path}:Alerts:OutageCadenceWindows",
                "must be >= 1"),
            StormShare = Check(a.StormShare ?? alerts.StormShare, v => v is > 0 and < 1, $"{path}:Alerts:StormShare", "must be in (0, 1)"),
            StormSpan = Positive(a.StormSpan ?? alerts.StormSpan, $"{path}:Alerts:StormSpan"),
            OutageSilence = Check(a.OutageSilence ?? alerts.OutageSilence, v => v >= TimeSpan.FromMinutes(2),
                $"{path}:Alerts:OutageSilence", "must be at least 2 minutes (it is counted in 1-minute regional windows)"),
            OutageCheckInterval = Positive(a.OutageCheckInterval ?? alerts.OutageCheckInterval, $"{path}:Alerts:OutageCheckInterval"),
        };
        alerts = alerts with
        {
            OutageLookback = Check(a.OutageLookback ?? alerts.OutageLookback, v => v > alerts.OutageSilence,
                $"{path}:Alerts:OutageLookback", "must be longer than OutageSilence"),
        };

        var deadLetters = bound.DeadLetterTopic ?? defaults.Alerts.Consumer.DeadLetterTopic;
        if (deadLetters is not null && string.IsNullOrWhiteSpace(deadLetters))
            throw Invalid($"{path}:DeadLetterTopic", "must not be blank");
        return defaults with
        {
            Tariffs = tariffs with { Consumer = tariffs.Consumer with { DeadLetterTopic = deadLetters } },
            Alerts = alerts with { Consumer = alerts.Consumer with { DeadLetterTopic = deadLetters } },
        };
    }

    /// <summary>SmartGrid:Notifications → <see cref="NotificationSettings"/>; absent keys keep their defaults.</summary>
    public static NotificationSettings ReadNotifications(IConfiguration configuration)
    {
        var deadLetterTopic = configuration[$"{ServicesSection}:DeadLetterTopic"];
        var section = configuration.GetSection(NotificationsSection);
        var s = Bind<NotificationSettings>(section);
        var path = NotificationsSection;

        Require(!string.IsNullOrWhiteSpace(s.Smtp.Host), $"{path}:Smtp:Host", "is required");
        Require(s.Smtp.Port is > 0 and <= 65535, $"{path}:Smtp:Port", $"{s.Smtp.Port} is not a port");
        Require(MailboxAddress.TryParse(s.Smtp.From, out _), $"{path}:Smtp:From", $"'{s.Smtp.From}' is not a mail address");
        Require(s.Smtp.Password is null || !string.IsNullOrEmpty(s.Smtp.UserName), $"{path}:Smtp:UserName", "is required with a password");
        Positive(s.Smtp.Timeout, $"{path}:Smtp:Timeout");

        for (var i = 0; i < s.Webhook.AllowedTargets.Length; i++)
        {
            try
            {
                _ = new WebhookTargets([s.Webhook.AllowedTargets[i]]);
            }
            catch (FormatException e)
            {
                Require(false, $"{path}:Webhook:AllowedTargets:{i}", e.Message);
            }
        }
        Positive(s.Webhook.Timeout, $"{path}:Webhook:Timeout");

        if (!string.IsNullOrWhiteSpace(s.Sms.BaseUrl))
        {
            RequireUrl(s.Sms.BaseUrl, $"{path}:Sms:BaseUrl");
            Require(!string.IsNullOrWhiteSpace(s.Sms.AccountSid), $"{path}:Sms:AccountSid", "is required with an SMS base URL");
            Require(!string.IsNullOrWhiteSpace(s.Sms.AuthToken), $"{path}:Sms:AuthToken", "is required with an SMS base URL");
            Require(!string.IsNullOrWhiteSpace(s.Sms.From), $"{path}:Sms:From", "is required with an SMS base URL");
            Positive(s.Sms.Timeout, $"{path}:Sms:Timeout");
        }

        if (!string.IsNullOrWhiteSpace(s.Push.BaseUrl))
        {
            RequireUrl(s.Push.BaseUrl, $"{path}:Push:BaseUrl");
            Require(!string.IsNullOrWhiteSpace(s.Push.ProjectId), $"{path}:Push:ProjectId", "is required with a push base URL");
            Require(!string.IsNullOrWhiteSpace(s.Push.AccessToken), $"{path}:Push:AccessToken", "is required with a push base URL");
            Positive(s.Push.Timeout, $"{path}:Push:Timeout");
        }

        Require(s.MaxAttempts is >= 1 and <= 10, $"{path}:MaxAttempts", "must be between 1 and 10");
        Require(s.RetryBaseDelay >= TimeSpan.Zero, $"{path}:RetryBaseDelay", "must not be negative");
        Require(s.MaxConcurrentDeliveries is >= 1 and <= 256, $"{path}:MaxConcurrentDeliveries", "must be between 1 and 256");
        Require(s.MaxPerRecipientPerHour is >= 0 and <= 10000, $"{path}:MaxPerRecipientPerHour", "must be between 0 (no limit) and 10000");
        try
        {
            _ = new NotificationTemplates(s.Templates);
        }
        catch (ArgumentException e)
        {
            throw Invalid($"{path}:Templates", e.Message);
        }

        return string.IsNullOrWhiteSpace(deadLetterTopic) ? s : s with { Consumer = s.Consumer with { DeadLetterTopic = deadLetterTopic } };
    }

    private static T Bind<T>(IConfigurationSection section) where T : new()
    {
        try
        {
            return section.Get<T>(o => o.ErrorOnUnknownConfiguration = true) ?? new T();
        }
        catch (InvalidOperationException e)
        {
            // The binder names the key of a value it cannot convert, but not the section of an unknown key.
            throw new InvalidOperationException($"{section.Path}: {e.Message}", e);
        }
    }

    private static TariffTiers ReadTiers(List<TierSection> tiers, string path)
    {
        var list = new List<TariffTier>();
        for (var i = 0; i < tiers.Count; i++)
        {
            var tier = tiers[i];
            var at = $"{path}:{i}";
            Require(!string.IsNullOrWhiteSpace(tier.Name), $"{at}:Name", "is required");
            if (i == 0)
                Require(tier.FromLoadPercent is null, $"{at}:FromLoadPercent", "must be absent: the first tier starts at any load");
            else
                Require(tier.FromLoadPercent is { } from && double.IsFinite(from), $"{at}:FromLoadPercent", "is required after the first tier");
            Require(tier.SurchargePercent > -100, $"{at}:SurchargePercent", "must be > -100");
            list.Add(new TariffTier(tier.Name!, tier.FromLoadPercent ?? double.NegativeInfinity, tier.FromInclusive, tier.SurchargePercent));
        }

        try
        {
            return new TariffTiers(list);
        }
        catch (ArgumentException e)
        {
            throw Invalid(path, e.Message);
        }
    }

    private static T Check<T>(T value, Func<T, bool> valid, string key, string problem) =>
        valid(value) ? value : throw Invalid(key, $"{Convert.ToString(value, CultureInfo.InvariantCulture)} {problem}");

    private static TimeSpan Positive(TimeSpan value, string key) => Check(value, v => v > TimeSpan.Zero, key, "must be positive");

    private static void Require(bool condition, string key, string problem)
    {
        if (!condition) throw Invalid(key, problem);
    }

    private static void RequireUrl(string value, string key) =>
        Require(Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps),
            key, $"'{value}' is not an http(s) URL");

    private static InvalidOperationException Invalid(string key, string problem) => new($"Configuration {key}: {problem}");

    // Binding shapes of SmartGrid:Services: nullable, so an absent key keeps the settings' default
    // (and arrays are not appended to defaults, as the binder does with pre-filled lists).
    private sealed class ServicesBinding
    {
        public TariffSection Tariffs { get; set; } = new();
        public AlertSection Alerts { get; set; } = new();
        public string? DeadLetterTopic { get; set; }
    }

    private sealed class TariffSection
    {
        public List<TierSection>? Tiers { get; set; }
        public decimal? PublishThresholdPercent { get; set; }
        public decimal? DefaultBasePricePerKwh { get; set; }
        public TimeSpan? CacheTtl { get; set; }
        public TimeSpan? OverrideCheckInterval { get; set; }
    }

    private sealed class TierSection
    {
        public string? Name { get; set; }
        public double? FromLoadPercent { get; set; }
        public bool FromInclusive { get; set; } = true;
        public decimal SurchargePercent { get; set; }
    }

    private sealed class AlertSection
    {
        public double? OverloadThresholdPercent { get; set; }
        public int? OverloadWindows { get; set; }
        public TimeSpan? OverloadSpan { get; set; }
        public double? CriticalLoadPercent { get; set; }
        public double? OverloadClearPercent { get; set; }
        public int? OverloadClearWindows { get; set; }
        public int? AnomalyClearWindows { get; set; }
        public int? OutageCadenceWindows { get; set; }
        public double? StormShare { get; set; }
        public TimeSpan? StormSpan { get; set; }
        public TimeSpan? OutageSilence { get; set; }
        public TimeSpan? OutageCheckInterval { get; set; }
        public TimeSpan? OutageLookback { get; set; }
    }
}
