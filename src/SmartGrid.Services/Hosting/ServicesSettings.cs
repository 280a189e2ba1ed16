using System.Globalization;
using Microsoft.Extensions.Configuration;
using SmartGrid.Domain;
using SmartGrid.Domain.Grid;
using SmartGrid.Channels;
using SmartGrid.Services.Notifications;
using SmartGrid.Storage;

namespace SmartGrid.Services.Hosting;

/// <summary>
/// The grid services' and notifications' settings, bound the one way (<see cref="SettingsBinding"/>: onto the
/// records' own defaults, unknown keys refused) and validated before anything starts: every error names the
/// configuration key (SmartGrid:Services:Alerts:OutageSilence…), so a node with a typo or an impossible value
/// refuses to start with one clear line.
/// </summary>
public static class ServicesSettings
{
    public const string NotificationsSection = ChannelSettings.Section;

    /// <summary>SmartGrid:Services → <see cref="GridServicesOptions"/>; absent keys keep their defaults.</summary>
    public static GridServicesOptions ReadGridServices(IConfiguration configuration) =>
        configuration.BindValidated<GridServicesOptions>(GridServicesOptions.Section, Validate, refuseUnknownKeys: true);

    /// <summary>SmartGrid:Notifications → <see cref="NotificationSettings"/>; absent keys keep their defaults.</summary>
    public static NotificationSettings ReadNotifications(IConfiguration configuration) =>
        configuration.BindValidated<NotificationSettings>(NotificationsSection, Validate, refuseUnknownKeys: true);

    public static GridServicesOptions Validate(GridServicesOptions options)
    {
        const string tariffs = GridServicesOptions.Section + ":Tariffs";
        const string alerts = GridServicesOptions.Section + ":Alerts";
        var t = options.Tariffs;
        if (t.Tiers is { } tiers) ValidateTiers(tiers, $"{tariffs}:Tiers");
        Check(t.PublishThresholdPercent, v => v >= 0, $"{tariffs}:PublishThresholdPercent", "must be >= 0");
        Check(t.DefaultBasePricePerKwh, v => v > 0, $"{tariffs}:DefaultBasePricePerKwh", "must be > 0");
        Positive(t.CacheTtl, $"{tariffs}:CacheTtl");
        Positive(t.OverrideCheckInterval, $"{tariffs}:OverrideCheckInterval");

        var a = options.Alerts;
        var threshold = a.Overload.ThresholdPercent;
        Check(threshold, v => v is > 0 and <= 1000, $"{alerts}:Overload:ThresholdPercent", "must be in (0, 1000]");
        Check(a.Overload.WindowsRequired, v => v >= 1, $"{alerts}:Overload:WindowsRequired", "must be >= 1");
        Positive(a.Overload.Span, $"{alerts}:Overload:Span");
        Check(a.CriticalLoadPercent, v => v > threshold, $"{alerts}:CriticalLoadPercent",
            $"must be above the overload threshold ({threshold.ToString(CultureInfo.InvariantCulture)})");
        Check(a.OverloadClearPercent, v => v > 0 && v <= threshold, $"{alerts}:OverloadClearPercent",
            $"must be in (0, the overload threshold ({threshold.ToString(CultureInfo.InvariantCulture)})]");
        Check(a.OverloadClearWindows, v => v >= 1, $"{alerts}:OverloadClearWindows", "must be >= 1");
        Check(a.AnomalyClearWindows, v => v >= 1, $"{alerts}:AnomalyClearWindows", "must be >= 1");
        Check(a.OutageCadenceWindows, v => v >= 1, $"{alerts}:OutageCadenceWindows", "must be >= 1");
        Check(a.StormShare, v => v is > 0 and < 1, $"{alerts}:StormShare", "must be in (0, 1)");
        Positive(a.StormSpan, $"{alerts}:StormSpan");
        Check(a.OutageSilence, v => v >= TimeSpan.FromMinutes(2), $"{alerts}:OutageSilence",
            "must be at least 2 minutes (it is counted in 1-minute regional windows)");
        Positive(a.OutageCheckInterval, $"{alerts}:OutageCheckInterval");
        Check(a.OutageLookback, v => v > a.OutageSilence, $"{alerts}:OutageLookback", "must be longer than OutageSilence");
        Check(a.PowerQualityPeriod, v => v >= TimeSpan.FromMinutes(10), $"{alerts}:PowerQualityPeriod", "must be at least one 10-minute window");
        Check(a.PowerQualityMinimumWindows, v => v >= 1, $"{alerts}:PowerQualityMinimumWindows", "must be >= 1");
        Positive(a.PowerQualityCheckInterval, $"{alerts}:PowerQualityCheckInterval");
        Positive(a.SwellQuiet, $"{alerts}:SwellQuiet");

        Require(options.DeadLetterTopic is null || !string.IsNullOrWhiteSpace(options.DeadLetterTopic),
            $"{GridServicesOptions.Section}:DeadLetterTopic", "must not be blank");
        return options;
    }

    public static NotificationSettings Validate(NotificationSettings s)
    {
        const string path = NotificationsSection;
        s.Validate();
        Require(s.MaxAttempts is >= 1 and <= 10, $"{path}:MaxAttempts", "must be between 1 and 10");
        Require(s.RetryBaseDelay >= TimeSpan.Zero, $"{path}:RetryBaseDelay", "must not be negative");
        Require(s.MaxConcurrentDeliveries is >= 1 and <= 256, $"{path}:MaxConcurrentDeliveries", "must be between 1 and 256");
        Require(s.MaxPerRecipientPerHour is >= 0 and <= 10000, $"{path}:MaxPerRecipientPerHour", "must be between 0 (no limit) and 10000");
        Require(string.IsNullOrEmpty(s.DigestBelow) || SeverityExtensions.RankOf(s.DigestBelow) > 0, $"{path}:DigestBelow",
            $"'{s.DigestBelow}' is not a severity (low, medium, high, critical; empty: no digests)");
        Require(string.IsNullOrEmpty(s.MeterDigestBelow) || SeverityExtensions.RankOf(s.MeterDigestBelow) > 0, $"{path}:MeterDigestBelow",
            $"'{s.MeterDigestBelow}' is not a severity (low, medium, high, critical; empty: as DigestBelow)");
        Positive(s.DigestInterval, $"{path}:DigestInterval");
        foreach (var (severity, every) in s.ReminderIntervals)
        {
            Require(SeverityExtensions.RankOf(severity) > 0, $"{path}:ReminderIntervals:{severity}", "is not a severity (low, medium, high, critical)");
            Positive(every, $"{path}:ReminderIntervals:{severity}");
        }
        Require(s.MaxReminders is >= 0 and <= 1000, $"{path}:MaxReminders", "must be between 0 and 1000");
        Positive(s.EscalationCheckInterval, $"{path}:EscalationCheckInterval");
        try
        {
            _ = new NotificationTemplates(s.Templates);
        }
        catch (ArgumentException e)
        {
            throw Invalid($"{path}:Templates", e.Message);
        }
        return s;
    }

    /// <summary>The tiers' rules are the domain's (<see cref="TariffTiers.Check"/>); here the first broken one is named by its key.</summary>
    private static void ValidateTiers(IReadOnlyList<TariffTier> tiers, string path)
    {
        if (TariffTiers.Check(tiers) is [var problem, ..])
            throw Invalid(problem.Key.Length == 0 ? path : $"{path}:{problem.Key}", problem.Problem);
    }

    private static void Check<T>(T value, Func<T, bool> valid, string key, string problem)
    {
        if (!valid(value)) throw Invalid(key, $"{Convert.ToString(value, CultureInfo.InvariantCulture)} {problem}");
    }

    private static void Positive(TimeSpan value, string key) => Check(value, v => v > TimeSpan.Zero, key, "must be positive");

    private static void Require(bool condition, string key, string problem)
    {
        if (!condition) throw Invalid(key, problem);
    }

    private static InvalidOperationException Invalid(string key, string problem) => new($"Configuration {key}: {problem}");
}
