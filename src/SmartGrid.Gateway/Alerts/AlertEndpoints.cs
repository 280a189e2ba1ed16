using Akka.Actor;
using SmartGrid.Contracts.Alerts;
using SmartGrid.Domain;
using SmartGrid.Domain.Alerts;
using SmartGrid.Gateway.Auth;
using SmartGrid.Gateway.Http;
using SmartGrid.Storage.Meters;

namespace SmartGrid.Gateway.Alerts;

/// <summary>
/// <c>/api/v1/alerts</c>: operators list, read, acknowledge and resolve the alerts of the regions
/// they operate (admins: all); the transitions go through the AlertManager singleton, which
/// records and publishes them. A USER reads the alerts on their own meters.
/// </summary>
internal static class AlertEndpoints
{
    private static readonly AlertStatus[] OpenStatuses = [AlertStatus.Active, AlertStatus.Acknowledged];

    public static void Map(RouteGroupBuilder api)
    {
        var op = api.MapSignedInGroup("/alerts/operator", "alerts", Roles.OperatorPolicy);
        op.MapGet("/active", ActiveAsync).WithName("alerts.operator.active").Produces<Page<AlertView>>()
            .WithSummary("Open alerts (active and acknowledged; status= narrows) of the caller's regions, most severe first (paged)")
            .Query("region", "One of the caller's regions (default: all of them)").Query("severity", "low, medium, high or critical")
            .Query("type", "ANOMALY, THRESHOLD or OUTAGE").Query("status", "active, acknowledged, resolved or all").Paged();
        op.MapGet("/{alertId}", DetailAsync).WithName("alerts.operator.detail").Produces<AlertDetail>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("One alert with its lifecycle events");
        op.MapPut("/{alertId}/acknowledge", (string alertId, HttpContext context, AlertStore alerts, IAlertManagerRef manager, GatewayOptions options) =>
                TransitionAsync(alertId, context, alerts, manager, options, acknowledge: true))
            .WithName("alerts.operator.acknowledge").Accepts<AlertActionBody>("application/json").Produces<AlertView>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Acknowledge an active alert (through the AlertManager); the body, optional, carries a note");
        op.MapPut("/{alertId}/resolve", (string alertId, HttpContext context, AlertStore alerts, IAlertManagerRef manager, GatewayOptions options) =>
                TransitionAsync(alertId, context, alerts, manager, options, acknowledge: false))
            .WithName("alerts.operator.resolve").Accepts<AlertActionBody>("application/json").Produces<AlertView>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Resolve an active or acknowledged alert (through the AlertManager); an overload that continues stays open, acknowledged, with a note saying why");

        var user = api.MapSignedInGroup("/alerts/user", "alerts", Roles.UserPolicy);
        user.MapGet("", UserAlertsAsync).WithName("alerts.user").Produces<Page<AlertView>>()
            .WithSummary("Alerts on the caller's meters (open ones unless status= says otherwise), most severe first (paged)")
            .Query("severity", "low, medium, high or critical").Query("type", "ANOMALY, THRESHOLD or OUTAGE")
            .Query("status", "active, acknowledged, resolved or all").Paged();
    }

    private static async Task<IResult> ActiveAsync(HttpContext context, GatewayOptions options, GatewayRegions regions, AlertStore alerts)
    {
        var query = new QueryReader(context.Request.Query);
        var asked = query.Raw("region");
        var region = asked is null ? null : regions.Canonical(asked);
        if (asked is not null && region is null)
            query.Error("region", $"must be one of {string.Join(", ", regions.Names)}");
        var (severity, type, statuses) = ReadFilters(query, OpenStatuses);
        var (limit, offset) = query.Page(options);
        if (query.HasErrors)
            return query.Problem();

        var user = CurrentUser.From(context.User);
        IReadOnlyList<string>? scope;
        if (region is not null)
        {
            if (!user.MayOperate(region))
                return Problems.Forbidden($"You do not operate region '{region}'.");
            scope = [region];
        }
        else
        {
            scope = user.IsAdmin ? null : user.Regions;
        }
        var (items, total) = await alerts.ListAsync(new AlertFilter(scope, severity, type, statuses), limit, offset, context.RequestAborted);
        return GatewayJson.Ok(new Page<AlertView>(items, total, limit, offset));
    }

    private static async Task<IResult> DetailAsync(string alertId, HttpContext context, AlertStore alerts)
    {
        if (!Guid.TryParse(alertId, out var id))
            return Problems.Field("alertId", "must be a UUID");
        var ct = context.RequestAborted;
        var (alert, denied) = await FindOperatedAsync(id, context, alerts, ct);
        if (denied is not null)
            return denied;
        return GatewayJson.Ok(new AlertDetail(alert!, await alerts.EventsAsync(id, ct)));
    }

    private static async Task<IResult> TransitionAsync(string alertId, HttpContext context, AlertStore alerts, IAlertManagerRef manager,
        GatewayOptions options, bool acknowledge)
    {
        if (!Guid.TryParse(alertId, out var id))
            return Problems.Field("alertId", "must be a UUID");
        var (note, invalid) = await ReadNoteAsync(context, options);
        if (invalid is not null)
            return invalid;
        var ct = context.RequestAborted;
        // The region decides who may act on the alert; the AlertManager decides whether the transition is allowed.
        var (_, denied) = await FindOperatedAsync(id, context, alerts, ct);
        if (denied is not null)
            return denied;

        var by = CurrentUser.From(context.User).Id.ToString();
        object reply;
        try
        {
            var actor = await manager.GetAsync(ct);
            reply = await actor.Ask<object>(acknowledge ? new AcknowledgeAlert(id, by, note) : new ResolveAlert(id, by, note), options.AlertCommandTimeout, ct);
        }
        catch (AskTimeoutException)
        {
            return Unavailable($"The alert service did not answer within {options.AlertCommandTimeout.TotalSeconds:0.#} s; nothing was changed that we know of. Retry later.");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Status.Failure from the AlertManager: its database write failed and was rolled back.
            return Unavailable("The alert service could not record the change; retry later.");
        }
        return reply switch
        {
            AlertCommandSucceeded ok => GatewayJson.Ok(ok.Alert),
            AlertCommandRejected { Error: AlertCommandError.NotFound } => Problems.NotFound("Alert not found", $"No alert '{id}'."),
            AlertCommandRejected rejected => Problems.Conflict("Invalid alert transition", rejected.Reason),
            _ => Unavailable($"The alert service answered unexpectedly ({reply.GetType().Name})."),
        };
    }

    /// <summary>
    /// The optional body of acknowledge and resolve: { "note": "..." }. No body (or an empty one) means no note;
    /// a note is trimmed, at most <see cref="AlertActionBody.MaxNoteLength"/> characters, and free of control
    /// characters other than line breaks and tabs (it is shown in pages and e-mails).
    /// </summary>
    private static async Task<(string? Note, IResult? Invalid)> ReadNoteAsync(HttpContext context, GatewayOptions options)
    {
        if (context.Request.ContentLength == 0 || (context.Request.ContentLength is null && context.Request.ContentType is null))
            return (null, null);
        var (body, failure) = await JsonBody.ReadAsync(context, options.MaxBodyBytes);
        if (failure is not null)
            return (null, failure);
        using (body)
        {
            var note = body!.String("note", required: false, maxLength: AlertActionBody.MaxNoteLength)?.Trim();
            if (note is not null && note.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t')))
                body.Error("note", "must not contain control characters other than line breaks and tabs");
            return body.HasErrors ? (null, body.Problem()) : (string.IsNullOrEmpty(note) ? null : note, null);
        }
    }

    private static async Task<IResult> UserAlertsAsync(HttpContext context, GatewayOptions options, MeterDirectory meters, AlertStore alerts)
    {
        var query = new QueryReader(context.Request.Query);
        var (severity, type, statuses) = ReadFilters(query, OpenStatuses);
        var (limit, offset) = query.Page(options);
        if (query.HasErrors)
            return query.Problem();
        var ct = context.RequestAborted;
        var owned = await meters.MetersOfAsync(CurrentUser.From(context.User).Id, ct);
        if (owned.Count == 0)
            return GatewayJson.Ok(new Page<AlertView>([], 0, limit, offset));
        var (items, total) = await alerts.ListAsync(new AlertFilter(null, severity, type, statuses, owned), limit, offset, ct);
        return GatewayJson.Ok(new Page<AlertView>(items, total, limit, offset));
    }

    /// <summary>severity, type and status query parameters (status: active | acknowledged | resolved | all).</summary>
    private static (string? Severity, AlertType? Type, IReadOnlyList<AlertStatus> Statuses) ReadFilters(QueryReader query,
        IReadOnlyList<AlertStatus> defaultStatuses)
    {
        var severity = query.Raw("severity")?.ToLowerInvariant();
        if (severity is not null && !SeverityExtensions.WireNames.Contains(severity))
            query.Error("severity", $"must be one of {string.Join(", ", SeverityExtensions.WireNames)}");
        var typeName = query.Raw("type");
        var type = typeName is null ? null : SelectableAlertTypes.Find(typeName);
        if (typeName is not null && type is null)
            query.Error("type", $"must be one of {string.Join(", ", SelectableAlertTypes.Names)}");
        IReadOnlyList<AlertStatus> statuses = defaultStatuses;
        var status = query.Raw("status")?.ToLowerInvariant();
        if (status == "all")
            statuses = [.. OpenStatuses, AlertStatus.Resolved];
        else if (WireName.TryParse(status, out AlertStatus one))
            statuses = [one];
        else if (status is not null)
            query.Error("status", "must be active, acknowledged, resolved or all");
        return (severity, type, statuses);
    }

    /// <summary>The alert, or 404 when it does not exist and 403 when it is outside the caller's regions.</summary>
    private static async Task<(AlertView? Alert, IResult? Denied)> FindOperatedAsync(Guid id, HttpContext context, AlertStore alerts, CancellationToken ct)
    {
        var alert = await alerts.FindAsync(id, ct);
        if (alert is null)
            return (null, Problems.NotFound("Alert not found", $"No alert '{id}'."));
        return CurrentUser.From(context.User).MayOperate(alert.Region)
            ? (alert, null)
            : (null, Problems.Forbidden($"Alert '{id}' is in region '{alert.Region}', which you do not operate."));
    }

    private static IResult Unavailable(string detail) =>
        Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Alert service unavailable", detail: detail);
}
