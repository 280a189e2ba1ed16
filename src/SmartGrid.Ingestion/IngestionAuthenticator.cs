using Microsoft.Net.Http.Headers;
using SmartGrid.Storage;

namespace SmartGrid.Ingestion;

/// <summary>
/// Finds the ingestion key of a request: <c>Authorization: Bearer sgk_…</c> or <c>X-Api-Key: sgk_…</c>.
/// A key that is sent is always checked (an unknown or revoked one is answered 401 even where no
/// key is required), so a head-end configured with a bad key learns it in development already.
/// </summary>
public sealed class IngestionAuthenticator
{
    public const string ApiKeyHeader = "X-Api-Key";
    private const string Challenge = "Bearer realm=\"smartgrid-ingestion\"";

    private readonly IngestionKeys keys;
    private readonly IngestionOptions options;

    public IngestionAuthenticator(IngestionKeys keys, IngestionOptions options, ILogger<IngestionAuthenticator> log)
    {
        this.keys = keys;
        this.options = options;
        keys.DatabaseFailed += e => log.KeysFromCache(e);
    }

    /// <summary>The key (null: none sent, none required), or the 401 to answer.</summary>
    public async ValueTask<(IngestionKey? Key, IResult? Denied)> AuthenticateAsync(HttpContext context)
    {
        var secret = Presented(context.Request.Headers);
        if (secret is null)
        {
            return options.RequireApiKey
                ? (null, Deny(context, Challenge,
                    $"Send an ingestion API key: Authorization: Bearer sgk_… or {ApiKeyHeader}: sgk_… (an admin creates one with POST /api/v1/admin/ingestion-keys)."))
                : (null, null);
        }
        IngestionKey? key;
        try
        {
            key = await keys.AuthenticateAsync(secret, context.RequestAborted);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            // Only before the keys were ever loaded: nothing to check the key against yet.
            context.Response.Headers.RetryAfter = "5";
            return (null, Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Ingestion keys unavailable",
                detail: "The ingestion keys could not be loaded; nothing was accepted. Retry later."));
        }
        return key is not null
            ? (key, null)
            : (null, Deny(context, Challenge + ", error=\"invalid_token\"", "The ingestion API key is unknown or revoked."));
    }

    private static string? Presented(IHeaderDictionary headers)
    {
        var authorization = headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return authorization["Bearer ".Length..].Trim();
        var apiKey = headers[ApiKeyHeader].ToString().Trim();
        return apiKey.Length > 0 ? apiKey : null;
    }

    private static IResult Deny(HttpContext context, string challenge, string detail)
    {
        context.Response.Headers[HeaderNames.WWWAuthenticate] = challenge;
        return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: detail);
    }
}
