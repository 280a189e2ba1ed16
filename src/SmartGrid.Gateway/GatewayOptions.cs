namespace SmartGrid.Gateway;

/// <summary>
/// Settings of the REST gateway, bound from <see cref="Section"/>. Defaults suit development;
/// outside Development <see cref="SigningKey"/> must be set (see <see cref="Auth.SigningKeys"/>).
/// </summary>
public sealed record GatewayOptions
{
    public const string Section = "SmartGrid:Gateway";

    /// <summary>
    /// HMAC-SHA256 key of the access tokens; at least 32 bytes of UTF-8. Unset in Development: a
    /// key generated once per installation in <see cref="SigningKeyFile"/>; unset elsewhere: the
    /// node refuses to start.
    /// </summary>
    public string? SigningKey { get; init; }

    /// <summary>The key before a rotation: still accepted, for tokens issued before this node started, until they expire.</summary>
    public string? PreviousSigningKey { get; init; }

    /// <summary>Development only: where the generated per-installation key is kept (created 0600 on first start).</summary>
    public string SigningKeyFile { get; init; } = ".data/gateway/signing-key";

    public string Issuer { get; init; } = "smartgrid-gateway";
    public string Audience { get; init; } = "smartgrid-api";
    public TimeSpan AccessTokenLifetime { get; init; } = TimeSpan.FromMinutes(15);
    public TimeSpan RefreshTokenLifetime { get; init; } = TimeSpan.FromDays(7);

    /// <summary>How long a node trusts its last "session not revoked" answer (how late it may learn of another node's revocation).</summary>
    public TimeSpan RevocationCacheTtl { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often each node copies PostgreSQL's ended sessions into Redis: how late, at most, a node learns of a
    /// revocation that was made while Redis was down.
    /// </summary>
    public TimeSpan RevocationMirrorInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Tolerated clock difference when checking exp / nbf.</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan OtpLifetime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Development only: account messages (codes, notices) are written as files here instead of
    /// being sent; empty = send them through SmartGrid:Notifications (SMTP, SMS) as everywhere else.
    /// </summary>
    public string DevelopmentMailDrop { get; init; } = ".data/mail";

    /// <summary>Wrong codes tolerated per OTP; the next attempt (even with the right code) is refused.</summary>
    public int OtpMaxAttempts { get; init; } = 5;

    /// <summary>Requests per user, per endpoint and per minute (Redis ratelimit:{user_id}:{endpoint}).</summary>
    public int RateLimitPerMinute { get; init; } = 120;

    /// <summary>Requests per IP address, per anonymous endpoint (register, verify-otp, resend-otp, refresh) and per minute.</summary>
    public int AnonymousRateLimitPerMinute { get; init; } = 30;

    /// <summary>Failed logins of one account from one address within <see cref="LoginFailureWindow"/> before that address has to wait.</summary>
    public int LoginFreeFailures { get; init; } = 5;

    /// <summary>The wait after the first failure beyond the free ones; it doubles with each further failure.</summary>
    public TimeSpan LoginBaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan LoginMaxDelay { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Failed logins of one account from all addresses within <see cref="LoginFailureWindow"/> before
    /// every attempt at it is refused. High, so that a stranger needs many addresses to lock anyone out.
    /// </summary>
    public int LoginMaxFailuresPerAccount { get; init; } = 1000;

    /// <summary>Failed logins from one IP address (any account) within <see cref="LoginFailureWindow"/> before further attempts are refused.</summary>
    public int LoginMaxFailuresPerIp { get; init; } = 50;

    public TimeSpan LoginFailureWindow { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Prefixed to every Redis key the gateway writes (lets test runs share one server).</summary>
    public string RedisKeyPrefix { get; init; } = "";

    /// <summary>How long <c>GET /meters/{id}/status</c> waits for the meter actor before answering 504.</summary>
    public TimeSpan MeterStatusTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an acknowledge / resolve waits for the AlertManager singleton before answering 503.</summary>
    public TimeSpan AlertCommandTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a read route's last answer is kept in Redis to be served, marked stale, while PostgreSQL is down.</summary>
    public TimeSpan StaleReadTtl { get; init; } = TimeSpan.FromHours(24);

    /// <summary>After PostgreSQL failed, how long requests skip it (reads served stale, writes 503) before it is tried again.</summary>
    public TimeSpan DatabaseBreakDuration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Currency of invoice amounts (ISO 4217); prices per kWh are in it.</summary>
    public string Currency { get; init; } = "INR";

    public int DefaultPageSize { get; init; } = 100;
    public int MaxPageSize { get; init; } = 1000;

    /// <summary>
    /// Share of a region's registered meters that must have reported into a load window for it to
    /// count as complete: the grid overview's current load is the newest complete window, and load
    /// windows below it are marked partial. 0 &lt; share ≤ 1.
    /// </summary>
    public double CompleteWindowShare { get; init; } = 0.9;

    /// <summary>A meter whose newest 1-minute window started longer ago than this is listed as silent rather than reporting.</summary>
    public TimeSpan MeterSilentAfter { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>
    /// A meter silent longer than this is listed as passivated: keep it at <c>SmartGrid:Pipeline:PassivateAfter</c> (5 min)
    /// plus a window, the time after which its actor stops and gives its memory back.
    /// </summary>
    public TimeSpan MeterPassivatedAfter { get; init; } = TimeSpan.FromMinutes(6);

    /// <summary>Longest from..to span a time-range query may ask for.</summary>
    public TimeSpan MaxQueryRange { get; init; } = TimeSpan.FromDays(31);

    /// <summary>Largest JSON body the gateway reads.</summary>
    public int MaxBodyBytes { get; init; } = 64 * 1024;

    /// <summary>Development only: the meter given to the demo user.</summary>
    public string DemoMeterId { get; init; } = "MTR-00000001";

    /// <summary>Development only: whether to create the demo accounts at start-up.</summary>
    public bool SeedDemoAccounts { get; init; } = true;

    /// <summary>Browser origins (scheme://host[:port]) allowed cross-origin calls; none by default, so every preflight is denied.</summary>
    public string[] CorsOrigins { get; init; } = [];

    /// <exception cref="InvalidOperationException">A value is out of range, or a signing key is missing, short or published.</exception>
    public GatewayOptions Validate(bool isDevelopment)
    {
        Auth.SigningKeys.Check(SigningKey, nameof(SigningKey), required: !isDevelopment);
        Auth.SigningKeys.Check(PreviousSigningKey, nameof(PreviousSigningKey), required: false);
        Positive(AccessTokenLifetime, nameof(AccessTokenLifetime));
        Positive(RefreshTokenLifetime, nameof(RefreshTokenLifetime));
        Positive(OtpLifetime, nameof(OtpLifetime));
        Positive(RevocationCacheTtl, nameof(RevocationCacheTtl));
        Positive(RevocationMirrorInterval, nameof(RevocationMirrorInterval));
        Positive(LoginFailureWindow, nameof(LoginFailureWindow));
        Positive(LoginBaseDelay, nameof(LoginBaseDelay));
        if (LoginMaxDelay < LoginBaseDelay)
            throw new InvalidOperationException($"{Section}:LoginMaxDelay must be at least LoginBaseDelay ({LoginBaseDelay}), is {LoginMaxDelay}");
        if (LoginFreeFailures < 0)
            throw new InvalidOperationException($"{Section}:LoginFreeFailures must not be negative (is {LoginFreeFailures})");
        Positive(MeterStatusTimeout, nameof(MeterStatusTimeout));
        Positive(MeterSilentAfter, nameof(MeterSilentAfter));
        if (MeterPassivatedAfter <= MeterSilentAfter)
            throw new InvalidOperationException($"{Section}:MeterPassivatedAfter must be longer than MeterSilentAfter ({MeterSilentAfter}), is {MeterPassivatedAfter}");
        Positive(MaxQueryRange, nameof(MaxQueryRange));
        Positive(AlertCommandTimeout, nameof(AlertCommandTimeout));
        Positive(StaleReadTtl, nameof(StaleReadTtl));
        if (DatabaseBreakDuration < TimeSpan.FromMilliseconds(500))
            throw new InvalidOperationException($"{Section}:DatabaseBreakDuration must be at least 0.5 s (is {DatabaseBreakDuration})");
        if (string.IsNullOrWhiteSpace(Currency) || Currency.Length != 3)
            throw new InvalidOperationException($"{Section}:Currency must be a 3-letter ISO 4217 code (is '{Currency}')");
        AtLeastOne(OtpMaxAttempts, nameof(OtpMaxAttempts));
        AtLeastOne(RateLimitPerMinute, nameof(RateLimitPerMinute));
        AtLeastOne(AnonymousRateLimitPerMinute, nameof(AnonymousRateLimitPerMinute));
        AtLeastOne(LoginMaxFailuresPerAccount, nameof(LoginMaxFailuresPerAccount));
        AtLeastOne(LoginMaxFailuresPerIp, nameof(LoginMaxFailuresPerIp));
        AtLeastOne(DefaultPageSize, nameof(DefaultPageSize));
        AtLeastOne(MaxBodyBytes, nameof(MaxBodyBytes));
        if (MaxPageSize < DefaultPageSize)
            throw new InvalidOperationException($"{Section}:MaxPageSize must be at least DefaultPageSize ({DefaultPageSize}), is {MaxPageSize}");
        if (!(CompleteWindowShare > 0 && CompleteWindowShare <= 1))
            throw new InvalidOperationException($"{Section}:CompleteWindowShare must be above 0 and at most 1 (is {CompleteWindowShare})");
        if (ClockSkew < TimeSpan.Zero)
            throw new InvalidOperationException($"{Section}:ClockSkew must not be negative (is {ClockSkew})");
        for (var i = 0; i < CorsOrigins.Length; i++)
        {
            if (!Uri.TryCreate(CorsOrigins[i], UriKind.Absolute, out var origin) || origin.Scheme is not ("http" or "https")
                || origin.PathAndQuery != "/" || CorsOrigins[i].EndsWith('/'))
                throw new InvalidOperationException($"{Section}:CorsOrigins:{i} '{CorsOrigins[i]}' is not an origin such as https://grid.example.com");
        }
        return this;
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
            throw new InvalidOperationException($"{Section}:{name} must be positive (is {value})");
    }

    private static void AtLeastOne(int value, string name)
    {
        if (value < 1)
            throw new InvalidOperationException($"{Section}:{name} must be at least 1 (is {value})");
    }
}
