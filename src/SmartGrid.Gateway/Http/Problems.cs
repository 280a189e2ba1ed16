using SmartGrid.Http;

namespace SmartGrid.Gateway.Http;

/// <summary>RFC 7807 answers of the gateway; validation problems name the field in <c>errors</c>.</summary>
internal static class Problems
{
    public static IResult Validation(IDictionary<string, string[]> errors, string title = "Invalid request", string? detail = null) =>
        Results.ValidationProblem(errors, title: title,
            detail: detail ?? "See errors: each key names the field (query parameter, route value or body property) at fault.");

    public static IResult Field(string field, string reason, string title = "Invalid request") =>
        Validation(new Dictionary<string, string[]> { [field] = [reason] }, title);

    public static IResult NotFound(string title, string detail) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: title, detail: detail);

    public static IResult Conflict(string title, string detail) =>
        Results.Problem(statusCode: StatusCodes.Status409Conflict, title: title, detail: detail);

    public static IResult Forbidden(string detail) =>
        Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: detail);

    public static IResult Unauthorized(string detail) =>
        Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: detail);

    public static IResult TooManyRequests(TimeSpan retryAfter, string detail) =>
        RetryAfterResult.Problem(StatusCodes.Status429TooManyRequests, "Too many requests", detail, retryAfter);

    /// <param name="database">How the database failed: unreachable (tried now) or circuit-open (not tried: it failed moments ago).</param>
    public static IResult ServiceUnavailable(TimeSpan retryAfter, string detail, string database) =>
        RetryAfterResult.Problem(StatusCodes.Status503ServiceUnavailable, "Database unavailable", detail, retryAfter,
            [new("database", database)]);
}
