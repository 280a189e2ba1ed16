namespace SmartGrid.Gateway.Auth;

/// <summary>Delivers a one-time code to the user. The notification service will implement this; until then it is logged.</summary>
public interface IOtpSender
{
    Task SendAsync(Guid userId, string email, string purpose, string code, DateTimeOffset expiresAt, CancellationToken ct);
}

/// <summary>Development stand-in: writes the code to the log (never use where logs are shared).</summary>
public sealed class LoggingOtpSender(ILogger<LoggingOtpSender> log) : IOtpSender
{
    public Task SendAsync(Guid userId, string email, string purpose, string code, DateTimeOffset expiresAt, CancellationToken ct)
    {
        log.LogInformation("OTP for {Email} ({Purpose}): {Code}, valid until {ExpiresAt:O}", email, purpose, code, expiresAt);
        return Task.CompletedTask;
    }
}
