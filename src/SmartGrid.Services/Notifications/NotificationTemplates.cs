using System.Collections.Frozen;
using System.Text.Encodings.Web;
using Fluid;

namespace SmartGrid.Services.Notifications;

/// <summary>
/// The notification templates (Liquid, rendered with Fluid): a subject and a plain-text body for
/// every channel, and an HTML body for email (values HTML-encoded there).
/// </summary>
public sealed class NotificationTemplates
{
    public const string AlertCreated = "alert_created";
    public const string AlertAcknowledged = "alert_acknowledged";
    public const string AlertResolved = "alert_resolved";
    public const string AlertReminder = "alert_reminder";
    public const string AlertEscalated = "alert_escalated";
    public const string AlertDigest = "alert_digest";
    public const string TariffIncreased = "tariff_increased";
    public const string TariffDecreased = "tariff_decreased";

    private static readonly IReadOnlyDictionary<string, (string Subject, string Text, string Html)> Sources =
        new Dictionary<string, (string, string, string)>
        {
            [AlertCreated] = (
                "[{{ severity | upcase }}] {{ type }} alert in {{ region }}",
                "A {{ severity }} {{ type }} alert was raised in {{ region }}{% if meter_id %} on meter {{ meter_id }}{% endif %}.\n{{ message }}\nAlert: {{ alert_id }}",
                "<p>A <strong>{{ severity }}</strong> {{ type }} alert was raised in <strong>{{ region }}</strong>{% if meter_id %} on meter {{ meter_id }}{% endif %}.</p><p>{{ message }}</p><p>Alert: {{ alert_id }}</p>"),
            [AlertAcknowledged] = (
                "Alert acknowledged in {{ region }}: {{ type }}",
                "The {{ type }} alert in {{ region }} was acknowledged by {{ actor }}.\n{{ message }}\nAlert: {{ alert_id }}",
                "<p>The {{ type }} alert in <strong>{{ region }}</strong> was acknowledged by {{ actor }}.</p><p>{{ message }}</p><p>Alert: {{ alert_id }}</p>"),
            [AlertResolved] = (
                "Alert resolved in {{ region }}: {{ type }}",
                "The {{ type }} alert in {{ region }} was resolved by {{ actor }}.\n{{ message }}\nAlert: {{ alert_id }}",
                "<p>The {{ type }} alert in <strong>{{ region }}</strong> was resolved by {{ actor }}.</p><p>{{ message }}</p><p>Alert: {{ alert_id }}</p>"),
            [AlertReminder] = (
                "[REMINDER {{ severity | upcase }}] {{ type }} alert in {{ region }} is still unacknowledged",
                "Reminder {{ reminder }}: the {{ severity }} {{ type }} alert in {{ region }}{% if meter_id %} on meter {{ meter_id }}{% endif %} raised at {{ first_seen_at }} has not been acknowledged.\n{{ message }}\nAlert: {{ alert_id }}",
                "<p>Reminder {{ reminder }}: the <strong>{{ severity }}</strong> {{ type }} alert in <strong>{{ region }}</strong>{% if meter_id %} on meter {{ meter_id }}{% endif %} raised at {{ first_seen_at }} has not been acknowledged.</p><p>{{ message }}</p><p>Alert: {{ alert_id }}</p>"),
            [AlertEscalated] = (
                "[ESCALATED {{ severity | upcase }}] {{ type }} alert in {{ region }}",
                "Nobody has acknowledged the {{ severity }} {{ type }} alert in {{ region }}{% if meter_id %} on meter {{ meter_id }}{% endif %} raised at {{ first_seen_at }}: you are tier {{ tier }} of the escalation policy {{ policy }}.\n{{ message }}\nAlert: {{ alert_id }}",
                "<p>Nobody has acknowledged the <strong>{{ severity }}</strong> {{ type }} alert in <strong>{{ region }}</strong>{% if meter_id %} on meter {{ meter_id }}{% endif %} raised at {{ first_seen_at }}: you are tier {{ tier }} of the escalation policy {{ policy }}.</p><p>{{ message }}</p><p>Alert: {{ alert_id }}</p>"),
            [AlertDigest] = (
                "SmartGrid digest: {{ count }} notification{% if count != 1 %}s{% endif %}",
                "{{ count }} notification{% if count != 1 %}s{% endif %} below {{ digest_below }} since {{ since }}:\n{% for item in items %}- {{ item }}\n{% endfor %}",
                "<p>{{ count }} notification{% if count != 1 %}s{% endif %} below {{ digest_below }} since {{ since }}:</p><ul>{% for item in items %}<li>{{ item }}</li>{% endfor %}</ul>"),
            [TariffIncreased] = (
                "Electricity price up in {{ region }}: {{ new_price }} per kWh",
                "The price in {{ region }} rises from {{ old_price }} to {{ new_price }} per kWh (+{{ change_percent }}%) from {{ effective_from }} ({{ reason }}).",
                "<p>The price in <strong>{{ region }}</strong> rises from {{ old_price }} to <strong>{{ new_price }}</strong> per kWh (+{{ change_percent }}%) from {{ effective_from }} ({{ reason }}).</p>"),
            [TariffDecreased] = (
                "Electricity price down in {{ region }}: {{ new_price }} per kWh",
                "The price in {{ region }} falls from {{ old_price }} to {{ new_price }} per kWh (-{{ change_percent }}%) from {{ effective_from }} ({{ reason }}).",
                "<p>The price in <strong>{{ region }}</strong> falls from {{ old_price }} to <strong>{{ new_price }}</strong> per kWh (-{{ change_percent }}%) from {{ effective_from }} ({{ reason }}).</p>"),
        };

    private readonly FrozenDictionary<string, (IFluidTemplate Subject, IFluidTemplate Text, IFluidTemplate Html)> _templates;

    public NotificationTemplates() : this(null)
    {
    }

    /// <summary>The built-in templates, with any part replaced by <paramref name="overrides"/> (by template name).</summary>
    public NotificationTemplates(IReadOnlyDictionary<string, NotificationTemplateSource>? overrides)
    {
        overrides ??= new Dictionary<string, NotificationTemplateSource>();
        foreach (var name in overrides.Keys.Where(n => !Sources.ContainsKey(n)))
            throw new ArgumentException($"unknown notification template '{name}' (known: {string.Join(", ", Sources.Keys)})", nameof(overrides));
        var parser = new FluidParser();
        _templates = Sources.ToFrozenDictionary(kv => kv.Key, kv =>
        {
            var custom = overrides.GetValueOrDefault(kv.Key);
            return (Parse(parser, kv.Key, "Subject", custom?.Subject ?? kv.Value.Subject),
                Parse(parser, kv.Key, "Text", custom?.Text ?? kv.Value.Text),
                Parse(parser, kv.Key, "Html", custom?.Html ?? kv.Value.Html));
        });
    }

    public static IReadOnlyCollection<string> Names => Sources.Keys.ToList();

    /// <summary>Subject, text and HTML of <paramref name="template"/> with <paramref name="values"/> (strings and numbers).</summary>
    public (string Subject, string Text, string Html) Render(string template, IReadOnlyDictionary<string, object?> values)
    {
        if (!_templates.TryGetValue(template, out var t))
            throw new ArgumentException($"unknown notification template {template}", nameof(template));
        var context = new TemplateContext();
        foreach (var (name, value) in values)
        {
            if (value is not null) context.SetValue(name, value);
        }

        return (t.Subject.Render(context, NullEncoder.Default).Trim(), t.Text.Render(context, NullEncoder.Default),
            t.Html.Render(context, HtmlEncoder.Default));
    }

    private static IFluidTemplate Parse(FluidParser parser, string name, string part, string source) =>
        parser.TryParse(source, out var template, out var error)
            ? template
            : throw new ArgumentException($"notification template {name}:{part} does not parse: {error}");
}

/// <summary>Replacement Liquid sources of one template; a part left null keeps the built-in one.</summary>
public sealed record NotificationTemplateSource
{
    public string? Subject { get; init; }
    public string? Text { get; init; }
    public string? Html { get; init; }
}
