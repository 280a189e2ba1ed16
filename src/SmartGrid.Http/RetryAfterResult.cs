using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace SmartGrid.Http;

/// <summary>An answer (a 429 or 503 problem) that tells the client when to try again: <c>Retry-After</c> in whole seconds, at least 1.</summary>
public sealed class RetryAfterResult(TimeSpan retryAfter, IResult inner) : IResult
{
    public int Seconds { get; } = SecondsOf(retryAfter);

    public static int SecondsOf(TimeSpan retryAfter) => Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));

    /// <summary>
    /// A problem+json answer with Retry-After; the body says the same in <c>retryAfterSeconds</c>, after
    /// <paramref name="extensions"/>, for clients that do not read headers.
    /// </summary>
    public static RetryAfterResult Problem(int statusCode, string title, string detail, TimeSpan retryAfter,
        IEnumerable<KeyValuePair<string, object?>>? extensions = null)
    {
        var body = new Dictionary<string, object?>(extensions ?? []) { ["retryAfterSeconds"] = SecondsOf(retryAfter) };
        return new RetryAfterResult(retryAfter, Results.Problem(statusCode: statusCode, title: title, detail: detail, extensions: body));
    }

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.Headers.RetryAfter = Seconds.ToString(CultureInfo.InvariantCulture);
        return inner.ExecuteAsync(httpContext);
    }
}
