using SmartGrid.Gateway.Http;

namespace SmartGrid.Gateway.Auth;

/// <summary>
/// Failed-login throttling that a stranger cannot turn into a lock-out. Failures are counted per
/// (account, client address) in <see cref="GatewayOptions.LoginFailureWindow"/>: after
/// <see cref="GatewayOptions.LoginFreeFailures"/> each further one makes that address wait
/// <see cref="GatewayOptions.LoginBaseDelay"/>, doubling, at most <see cref="GatewayOptions.LoginMaxDelay"/>;
/// the owner at another address is not slowed. Two ceilings stop distributed guessing: failures
/// of one account from all addresses (<see cref="GatewayOptions.LoginMaxFailuresPerAccount"/>, high:
/// reaching it takes many addresses each waiting out their delays) and failures of one address
/// over all accounts (<see cref="GatewayOptions.LoginMaxFailuresPerIp"/>). Redis keys
/// <c>login:fail:{pair|account|ip}:…</c> and <c>login:wait:…</c>; while Redis cannot answer
/// <see cref="RedisGuard"/> keeps them in this process, so the throttle never fails open.
/// </summary>
public sealed class LoginLockout(RedisGuard redis, GatewayOptions options, ILogger<LoginLockout> log)
{
    /// <summary>How long until this address may try this account again, or null.</summary>
    public async Task<TimeSpan?> RetryAfterAsync(string email, string address)
    {
        if (await redis.TimeToLiveAsync(WaitKey(email, address)) is { } wait)
            return Refused("account_address", wait);
        var (account, accountReset) = await redis.PeekAsync(AccountKey(email));
        if (account >= options.LoginMaxFailuresPerAccount)
            return Refused("account", accountReset);
        var (fromAddress, addressReset) = await redis.PeekAsync(AddressKey(address));
        return fromAddress >= options.LoginMaxFailuresPerIp ? Refused("address", addressReset) : null;
    }

    public async Task RecordFailureAsync(string email, string address)
    {
        var (pair, _) = await redis.HitAsync(PairKey(email, address), options.LoginFailureWindow);
        var (account, _) = await redis.HitAsync(AccountKey(email), options.LoginFailureWindow);
        var (fromAddress, _) = await redis.HitAsync(AddressKey(address), options.LoginFailureWindow);
        if (DelayAfter(pair) is { } delay)
        {
            await redis.SetAsync(WaitKey(email, address), delay);
            log.LoginDelayed(email, address, pair, delay);
        }
        // Logged once, when a ceiling is reached; each refusal after it is counted, not logged (an attacker must not flood the log).
        if (account == options.LoginMaxFailuresPerAccount)
            log.AccountLoginsClosed(email, account);
        if (fromAddress == options.LoginMaxFailuresPerIp)
            log.AddressLoginsClosed(address, fromAddress);
    }

    /// <summary>The owner got in from this address: its own failures are forgiven (not the account's, nor the address's).</summary>
    public async Task RecordSuccessAsync(string email, string address)
    {
        await redis.DeleteAsync(PairKey(email, address));
        await redis.DeleteAsync(WaitKey(email, address));
    }

    /// <summary>The wait after the <paramref name="failures"/>-th failure of one address at one account, or null while still free.</summary>
    public TimeSpan? DelayAfter(long failures)
    {
        var beyond = failures - options.LoginFreeFailures;
        if (beyond <= 0)
            return null;
        var doubled = options.LoginBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(beyond - 1, 40));
        return TimeSpan.FromMilliseconds(Math.Min(doubled, options.LoginMaxDelay.TotalMilliseconds));
    }

    private static TimeSpan Refused(string scope, TimeSpan retryAfter)
    {
        GatewayMetrics.LoginLockouts.Add(1, new KeyValuePair<string, object?>("scope", scope));
        return retryAfter;
    }

    private static string PairKey(string email, string address) => $"login:fail:pair:{email}:{address}";

    private static string WaitKey(string email, string address) => $"login:wait:{email}:{address}";

    private static string AccountKey(string email) => $"login:fail:account:{email}";

    private static string AddressKey(string address) => $"login:fail:ip:{address}";
}
