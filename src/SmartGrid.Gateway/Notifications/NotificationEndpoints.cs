using System.Globalization;
using SmartGrid.Channels;
using SmartGrid.Contracts.Notifications;
using SmartGrid.Domain;
using SmartGrid.Gateway.Alerts;
using SmartGrid.Gateway.Auth;
using SmartGrid.Gateway.Http;
using SmartGrid.Storage.Notifications;

namespace SmartGrid.Gateway.Notifications;

/// <summary>
/// <c>/api/v1/notifications/user/preferences</c>: the channels the caller (any role) is notified on, from which
/// severity, and where. PUT replaces the whole document; a channel is accepted only with the
/// address it needs (sms a phone, webhook a URL, push a device token). A new email or phone is
/// pending until confirmed with the code sent to it (POST .../preferences/confirm); until then the
/// confirmed one (or none) is used.
/// </summary>
internal static class NotificationEndpoints
{
    public static readonly string[] Channels = ["email", "sms", "push", "webhook"];
    public const int MaxAlertRules = 20;

    public static void Map(RouteGroupBuilder api)
    {
        // Every role: operators and admins are notified of their regions' alerts and need their channels too.
        var user = api.MapSignedInGroup("/notifications/user", "notifications");
        user.MapGet("/preferences", GetAsync).WithName("notifications.user.preferences.get").Produces<PreferencesView>()
            .WithSummary("The caller's notification preferences (the defaults until saved once)");
        user.MapPut("/preferences", PutAsync).WithName("notifications.user.preferences.put").Produces<PreferencesView>()
            .WithSummary("Replace the caller's notification preferences")
            .Body("""{"channels":["email","webhook"],"min_severity":"high","webhook_url":"https://hooks.example.com/grid","quiet_hours_start":"22:30","quiet_hours_end":"06:30","alert_rules":[{"types":["OUTAGE"],"severities":["critical"],"channels":["email","webhook"]},{"types":["ANOMALY"],"severities":["low","medium"],"channels":[]}]}""");
        user.MapPost("/preferences/confirm", ConfirmAsync).WithName("notifications.user.preferences.confirm").Produces<PreferencesView>()
            .WithSummary("Confirm a pending email or phone with the code sent to it")
            .Body("""{"address":"email","code":"123456"}""");
        user.MapPost("/webhook-secret", RotateSecretAsync).WithName("notifications.user.webhook-secret.rotate")
            .Produces<WebhookSecretView>().ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Replace the caller's webhook signing secret (answered once; the old one stops at once)");
    }

    private static async Task<IResult> RotateSecretAsync(HttpContext context, NotificationPreferenceStore store)
    {
        var secret = await store.RotateWebhookSecretAsync(CurrentUser.From(context.User).Id, context.RequestAborted);
        return secret is null
            ? Problems.Conflict("No webhook", "Save a webhook_url in your notification preferences first.")
            : GatewayJson.Ok(new WebhookSecretView(secret));
    }

    private static async Task<IResult> GetAsync(HttpContext context, NotificationPreferenceStore store)
    {
        var saved = await store.GetAsync(CurrentUser.From(context.User).Id, context.RequestAborted);
        return GatewayJson.Ok(View(saved ?? NotificationPreferences.Defaults, saved is not null));
    }

    private static Task<IResult> PutAsync(HttpContext context, GatewayOptions options, NotificationPreferenceStore store, AccountStore accounts,
        WebhookTargets webhookTargets, OneTimeCodes codes) =>
        JsonBody.HandleAsync(context, options.MaxBodyBytes, async body =>
        {
            var channels = body.StringArray("channels", required: true, maxItems: Channels.Length * 2, maxLength: 16) ?? [];
            foreach (var unknown in channels.Where(c => !Channels.Contains(c)).Distinct())
                body.Error("channels", $"'{unknown}' is not a channel; use {string.Join(", ", Channels)}");
            if (channels.Distinct().Count() != channels.Length)
                body.Error("channels", "must not repeat a channel");
            var severity = body.String("min_severity", required: false, maxLength: 16) ?? NotificationPreferences.Defaults.MinSeverity;
            if (!SeverityExtensions.WireNames.Contains(severity))
                body.Error("min_severity", $"must be one of {string.Join(", ", SeverityExtensions.WireNames)}");
            var email = AuthEndpoints.ReadEmail(body, "email", required: false);
            var phone = body.String("phone", required: false, maxLength: 16);
            if (phone is not null && !AuthEndpoints.PhonePattern().IsMatch(phone))
                body.Error("phone", "must be E.164, e.g. +919812345678");
            var webhook = body.String("webhook_url", required: false, maxLength: 2048);
            if (webhook is not null && await webhookTargets.CheckAsync(webhook, context.RequestAborted) is { } refused)
                body.Error("webhook_url", refused);
            var pushToken = body.String("push_token", required: false, maxLength: 4096);
            if (pushToken is not null && (pushToken.Length == 0 || pushToken.Any(char.IsControl) || pushToken.Any(char.IsWhiteSpace)))
                body.Error("push_token", "must be a non-empty token without spaces or control characters");
            var quietStart = ReadTime(body, "quiet_hours_start");
            var quietEnd = ReadTime(body, "quiet_hours_end");
            if ((quietStart is null) != (quietEnd is null) && !body.HasErrors)
                body.Error(quietStart is null ? "quiet_hours_start" : "quiet_hours_end", "give both quiet_hours_start and quiet_hours_end, or neither");
            else if (quietStart is not null && quietStart == quietEnd)
                body.Error("quiet_hours_end", "must differ from quiet_hours_start");
            IReadOnlyList<AlertChannelRule>? rules = ReadAlertRules(body);
            if (body.HasErrors)
                return body.Problem();

            var ct = context.RequestAborted;
            var user = CurrentUser.From(context.User);
            var account = await accounts.FindByIdAsync(user.Id, ct);
            if (account is null)
                return Problems.NotFound("Account not found", "The account of this token no longer exists.");
            var before = await store.GetAsync(user.Id, ct);
            // Left out, the saved rules stay: a client that does not know them must not erase them.
            rules ??= before?.Rules ?? [];
            var used = channels.Concat(rules.SelectMany(r => r.Channels)).ToHashSet();
            // A channel without its address would be accepted and then never deliver anything; sms
            // keeps the confirmed phone, else offers the account's (which then needs confirming).
            phone ??= used.Contains("sms") ? before?.Phone ?? account.Phone : null;
            if (used.Contains("sms") && phone is null)
                body.Error("phone", "is required for the sms channel (the account has no phone number)");
            if (used.Contains("webhook") && webhook is null)
                body.Error("webhook_url", "is required for the webhook channel");
            if (used.Contains("push") && pushToken is null)
                body.Error("push_token", "is required for the push channel");
            if (body.HasErrors)
                return body.Problem();

            var (confirmedEmail, pendingEmail) = Confirmation(email, before?.Email, before?.PendingEmail, account.Email);
            var (confirmedPhone, pendingPhone) = Confirmation(phone, before?.Phone, before?.PendingPhone, trusted: null);
            var preferences = new NotificationPreferences(Channels.Where(channels.Contains).ToArray(), severity, webhook, confirmedEmail, confirmedPhone,
                pushToken, quietStart, quietEnd, null, PendingEmail: pendingEmail, PendingPhone: pendingPhone, AlertRules: rules);
            var newSecret = await store.SaveAsync(user.Id, preferences, ct);
            if (pendingEmail is not null && pendingEmail != before?.PendingEmail)
                await codes.IssueAsync(user.Id, "email", pendingEmail, MessagePurpose.EmailConfirmation, ct);
            if (pendingPhone is not null && pendingPhone != before?.PendingPhone)
                await codes.IssueAsync(user.Id, "sms", pendingPhone, MessagePurpose.PhoneConfirmation, ct);
            var saved = await store.GetAsync(user.Id, ct);
            return GatewayJson.Ok(View(saved!, true, newSecret));
        });

    /// <summary>
    /// The (confirmed, pending) pair after asking for <paramref name="requested"/>: an address
    /// already confirmed (or the account's verified email) is used at once; a new one waits, and
    /// the confirmed one stays in use meanwhile.
    /// </summary>
    private static (string? Confirmed, string? Pending) Confirmation(string? requested, string? confirmed, string? pending, string? trusted) =>
        requested is null || requested == confirmed || requested == trusted ? (requested, null) : (confirmed, requested);

    private static Task<IResult> ConfirmAsync(HttpContext context, GatewayOptions options, NotificationPreferenceStore store, OneTimeCodes codes) =>
        JsonBody.HandleAsync(context, options.MaxBodyBytes, async body =>
        {
            var address = body.String("address", required: true, maxLength: 8);
            if (address is not null and not ("email" or "phone"))
                body.Error("address", "must be email or phone");
            var code = AuthEndpoints.ReadCode(body);
            if (body.HasErrors)
                return body.Problem();

            var ct = context.RequestAborted;
            var user = CurrentUser.From(context.User);
            var saved = await store.GetAsync(user.Id, ct);
            var (pending, purpose, effect) = address == "email"
                ? (saved?.PendingEmail, MessagePurpose.EmailConfirmation, OtpEffects.ConfirmEmail)
                : (saved?.PendingPhone, MessagePurpose.PhoneConfirmation, OtpEffects.ConfirmPhone);
            if (pending is null || (await codes.VerifyAsync(user.Id, pending, purpose, code!, effect, ct)).Outcome != OtpOutcome.Verified)
                return AuthEndpoints.InvalidCode("save the address again in PUT /api/v1/notifications/user/preferences");
            return GatewayJson.Ok(View((await store.GetAsync(user.Id, ct))!, true));
        });

    /// <summary>
    /// alert_rules: at most <see cref="MaxAlertRules"/> of {"types": [...], "severities": [...], "channels": [...]}, each list
    /// without repeats (empty types or severities: any; empty channels: not told); null when left out.
    /// </summary>
    private static List<AlertChannelRule>? ReadAlertRules(JsonBody body)
    {
        if (body.Objects("alert_rules", required: false, minItems: 0, maxItems: MaxAlertRules) is not { } items)
            return null;
        var rules = new List<AlertChannelRule>();
        foreach (var item in items)
        {
            var types = Subset(item, "types", SelectableAlertTypes.Names, s => s.ToUpperInvariant());
            var severities = Subset(item, "severities", SeverityExtensions.WireNames, s => s.ToLowerInvariant());
            if (!item.Has("channels"))
                item.Error("channels", "is required (an empty list: not notified of these alerts)");
            var channels = Subset(item, "channels", Channels, s => s.ToLowerInvariant());
            rules.Add(new AlertChannelRule(types, severities, Channels.Where(channels.Contains).ToArray()));
        }
        return rules;
    }

    private static string[] Subset(JsonBody item, string field, string[] allowed, Func<string, string> normalize)
    {
        var values = (item.StringArray(field, required: false, maxItems: allowed.Length * 2, maxLength: 16) ?? []).Select(normalize).ToArray();
        foreach (var unknown in values.Where(v => !allowed.Contains(v)).Distinct())
            item.Error(field, $"'{unknown}' is not one of {string.Join(", ", allowed)}");
        if (values.Distinct().Count() != values.Length)
            item.Error(field, "must not repeat an item");
        return values.Where(allowed.Contains).ToArray();
    }

    /// <summary>HH:mm (24-hour clock).</summary>
    private static TimeOnly? ReadTime(JsonBody body, string field)
    {
        var text = body.String(field, required: false, maxLength: 5);
        if (text is null)
            return null;
        if (!TimeOnly.TryParseExact(text, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
        {
            body.Error(field, "must be a time of day as HH:mm, e.g. 22:30");
            return null;
        }
        return time;
    }

    /// <summary><paramref name="newSecret"/>: a webhook secret just made, shown this once.</summary>
    private static PreferencesView View(NotificationPreferences p, bool saved, string? newSecret = null) => new(
        p.Channels, p.MinSeverity, p.WebhookUrl, p.Email, p.Phone, p.PendingEmail, p.PendingPhone, p.PushToken,
        p.QuietHoursStart?.ToString("HH:mm", CultureInfo.InvariantCulture), p.QuietHoursEnd?.ToString("HH:mm", CultureInfo.InvariantCulture),
        p.UpdatedAt, saved, p.HasWebhookSecret, newSecret, p.Rules);
}

/// <summary>
/// A user's notification preferences as the API shows them: <see cref="Email"/> and <see cref="Phone"/>
/// are the confirmed addresses in use, <see cref="PendingEmail"/> / <see cref="PendingPhone"/> wait for their code;
/// <see cref="WebhookSecret"/> is set only in the answer that made it (shown once), <see cref="WebhookSecretSet"/> always.
/// </summary>
public sealed record PreferencesView(string[] Channels, string MinSeverity, string? WebhookUrl, string? Email, string? Phone,
    string? PendingEmail, string? PendingPhone, string? PushToken, string? QuietHoursStart, string? QuietHoursEnd, DateTimeOffset? UpdatedAt,
    bool Saved, bool WebhookSecretSet, string? WebhookSecret, IReadOnlyList<AlertChannelRule> AlertRules);

/// <summary>A webhook signing secret, answered once when it is made.</summary>
public sealed record WebhookSecretView(string WebhookSecret);
