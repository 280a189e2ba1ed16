using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace SmartGrid.Gateway.OperatorConsole;

/// <summary>
/// The operator console: static pages (<c>wwwroot/</c>, copied beside the node's dll) served at <c>/</c> on the
/// gateway port, and the live event feed they read. The pages call the same <c>/api/v1</c> routes as any client.
/// </summary>
public static class ConsoleHosting
{
    /// <summary>
    /// Only what the pages need: their own scripts, styles and the API of this origin. No inline script, no
    /// framing (clickjacking of the ack and override buttons), no plugins.
    /// </summary>
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
        "manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Registers <see cref="ConsoleEventFeed"/> on the given Kafka bootstrap servers (a gateway node has them).</summary>
    public static IServiceCollection AddConsoleEvents(this IServiceCollection services, string bootstrapServers)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(bootstrapServers);
        services.AddSingleton(sp => new ConsoleEventFeed(bootstrapServers, sp.GetRequiredService<ILogger<ConsoleEventFeed>>()));
        services.AddHostedService(sp => sp.GetRequiredService<ConsoleEventFeed>());
        return services;
    }

    /// <summary>Serves <c>wwwroot/</c> (index.html at <c>/</c>) on <paramref name="gatewayPort"/> (0: on every port).</summary>
    public static WebApplication UseConsolePages(this WebApplication app, int gatewayPort)
    {
        var root = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        if (!Directory.Exists(root))
        {
            app.Logger.NoConsolePages(root);
            return app;
        }
        var files = new PhysicalFileProvider(root);
        app.UseWhen(context => gatewayPort == 0 || context.Connection.LocalPort == gatewayPort, pages => pages
            .UseDefaultFiles(new DefaultFilesOptions { FileProvider = files })
            .UseStaticFiles(new StaticFileOptions
            {
                FileProvider = files,
                OnPrepareResponse = served =>
                {
                    var headers = served.Context.Response.Headers;
                    headers.ContentSecurityPolicy = ContentSecurityPolicy;
                    headers["Referrer-Policy"] = "no-referrer";
                    headers.XFrameOptions = "DENY";
                    // Pages and modules change with every build: revalidate rather than run yesterday's script.
                    headers.CacheControl = "no-cache";
                    headers[HeaderNames.XContentTypeOptions] = "nosniff";
                },
            }));
        return app;
    }
}
