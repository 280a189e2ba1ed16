namespace SmartGrid.Gateway.Http;

/// <summary>An answer (a 429 or 503 problem) that tells the client when to try again: <c>Retry-After</c> in whole seconds, at least 1.</summary>
public sealed class RetryAfterResult(TimeSpan retryAfter, IResult inner) : IResult
{
    public int Seconds { get; } = SecondsOf(retryAfter);

    public static int SecondsOf(TimeSpan retryAfter) => Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.Headers.RetryAfter = Seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return inner.ExecuteAsync(httpContext);
    }
}
