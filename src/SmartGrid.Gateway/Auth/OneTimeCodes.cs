namespace SmartGrid.Gateway.Auth;

/// <summary>
/// Six-digit codes sent to an address (account verification, notification address confirmation).
/// A code is stored as a keyed digest bound to the user, the purpose's newest code and the address
/// it was sent to, so a code for a replaced address confirms nothing. Codes never reach a log.
/// </summary>
public sealed class OneTimeCodes(
    AccountStore accounts, TokenService tokens, IAccountMessenger messenger, GatewayOptions options, TimeProvider time, ILogger<OneTimeCodes> log)
{
    /// <summary>Retires the user's older codes of the purpose, stores a new one and sends it; returns its expiry.</summary>
    public async Task<DateTimeOffset> IssueAsync(Guid userId, string channel, string address, MessagePurpose purpose, CancellationToken ct)
    {
        var code = TokenService.NewOtpCode();
        var expiresAt = time.GetUtcNow() + options.OtpLifetime;
        await accounts.CreateOtpAsync(userId, purpose.ToWireName(), tokens.HashOtp(userId, $"{address}:{code}"), expiresAt, ct);
        await SendAsync(new AccountMessage(userId, channel, address, purpose, code, expiresAt), ct);
        return expiresAt;
    }

    /// <summary>Checks <paramref name="code"/> for the address; on success runs <paramref name="effect"/> (see <see cref="OtpEffects"/>).</summary>
    public Task<(OtpOutcome Outcome, int AttemptsLeft)> VerifyAsync(Guid userId, string address, MessagePurpose purpose, string code, string effect,
        CancellationToken ct) =>
        accounts.VerifyOtpAsync(userId, purpose.ToWireName(), tokens.HashOtp(userId, $"{address}:{code}"), options.OtpMaxAttempts, time.GetUtcNow(), effect, ct);

    /// <summary>
    /// A delivery failure is logged (without the message) and not answered differently: the
    /// caller's answer must not tell whether a message went out, and the user can ask again.
    /// </summary>
    public async Task SendAsync(AccountMessage message, CancellationToken ct)
    {
        try
        {
            await messenger.SendAsync(message, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.AccountMessageNotDelivered(e, message.Purpose.ToWireName(), message.UserId, message.Channel);
        }
    }
}
