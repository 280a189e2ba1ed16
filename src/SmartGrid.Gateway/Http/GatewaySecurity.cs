using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Net.Http.Headers;

namespace SmartGrid.Gateway.Http;

/// <summary>
/// Response headers every gateway answer carries, and CORS. <c>X-Content-Type-Options: nosniff</c> everywhere, so a
/// browser never runs a JSON or problem body as a script or page; <c>Cache-Control: no-store</c> on answers that carry
/// credentials (tokens, webhook secrets), so no proxy or browser cache keeps them. Cross-origin calls are answered by
/// ASP.NET Core's CORS middleware with <see cref="GatewayOptions.CorsOrigins"/>: a preflight from any other origin gets
/// 204 without Access-Control-Allow-Origin, which a browser takes as a refusal.
/// </summary>
public static class GatewaySecurity
{
    public const string CorsPolicy = "gateway";

    /// <summary>Routes whose answers may hold a token or a secret.</summary>
    private static readonly PathString[] NoStore = ["/api/v1/auth", "/api/v1/notifications/user"];

    public static IServiceCollection AddGatewayCors(this IServiceCollection services, GatewayOptions options) =>
        services.AddCors(cors => cors.AddPolicy(CorsPolicy, policy => policy
            .WithOrigins(options.CorsOrigins)
            .WithMethods("GET", "POST", "PUT", "DELETE")
            .WithHeaders(HeaderNames.Authorization, HeaderNames.ContentType)
            .WithExposedHeaders(HeaderNames.RetryAfter, "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-SmartGrid-Stale")
            .SetPreflightMaxAge(TimeSpan.FromMinutes(10))));

    public static WebApplication UseGatewaySecurity(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            var response = context.Response;
            var request = context.Request;
            response.OnStarting(() =>
            {
                response.Headers.XContentTypeOptions = "nosniff";
                if (NoStore.Any(p => request.Path.StartsWithSegments(p)))
                {
                    response.Headers.CacheControl = "no-store";
                    response.Headers.Pragma = "no-cache";
                }
                return Task.CompletedTask;
            });
            return next(context);
        });
        app.UseCors(CorsPolicy);
        return app;
    }
}
