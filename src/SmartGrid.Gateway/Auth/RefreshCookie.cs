namespace SmartGrid.Gateway.Auth;

/// <summary>
/// The browser console's refresh token: an HttpOnly cookie (no script of the page, nor one injected into it, can read
/// it), SameSite=Strict and scoped to <c>/api/v1/auth</c> (sent only to login, refresh and logout, never with the
/// other routes), Secure when the request came over HTTPS. A request opts in with the <see cref="Header"/> header:
/// a cross-site form cannot send a custom header, and a cross-origin script needs a CORS preflight for it, which the
/// gateway refuses (<c>CorsOrigins</c> allows Authorization and Content-Type only), so a forged refresh cannot ride
/// on the cookie even where a browser ignores SameSite. Without the header login and refresh answer the JSON body
/// flow as before.
/// </summary>
internal static class RefreshCookie
{
    public const string Name = "sg_refresh";
    public const string Path = "/api/v1/auth";
    public const string Header = "X-SmartGrid-Console";

    public static bool Requested(HttpContext context) => context.Request.Headers.ContainsKey(Header);

    public static string? Read(HttpContext context) =>
        context.Request.Cookies.TryGetValue(Name, out var value) && value is { Length: > 0 and <= 128 } ? value : null;

    public static void Set(HttpContext context, string token, DateTimeOffset expires) =>
        context.Response.Cookies.Append(Name, token, Options(context, expires));

    public static void Clear(HttpContext context) =>
        context.Response.Cookies.Delete(Name, Options(context, null));

    private static CookieOptions Options(HttpContext context, DateTimeOffset? expires) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = context.Request.IsHttps,
        Path = Path,
        Expires = expires,
        IsEssential = true,
    };
}
