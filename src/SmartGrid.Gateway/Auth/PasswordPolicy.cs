namespace SmartGrid.Gateway.Auth;

/// <summary>
/// 12 to 128 characters with a lower-case letter, an upper-case letter and a digit. BCrypt reads
/// at most 72 bytes, so longer passwords are refused rather than silently truncated.
/// </summary>
public static class PasswordPolicy
{
    public const int MinLength = 12;
    public const int MaxBytes = 72;
    public const int WorkFactor = 11;

    /// <summary>What is wrong with the password, or empty when it is acceptable.</summary>
    public static IReadOnlyList<string> Check(string password, string? email)
    {
        var problems = new List<string>();
        if (password.Length < MinLength)
            problems.Add($"must be at least {MinLength} characters");
        if (System.Text.Encoding.UTF8.GetByteCount(password) > MaxBytes)
            problems.Add($"must be at most {MaxBytes} bytes of UTF-8");
        if (!password.Any(char.IsLower))
            problems.Add("must contain a lower-case letter");
        if (!password.Any(char.IsUpper))
            problems.Add("must contain an upper-case letter");
        if (!password.Any(char.IsDigit))
            problems.Add("must contain a digit");
        if (email is { Length: > 0 } && password.Contains(email.Split('@')[0], StringComparison.OrdinalIgnoreCase) && email.Split('@')[0].Length >= 4)
            problems.Add("must not contain the email's local part");
        return problems;
    }

    public static string Hash(string password) => BCrypt.Net.BCrypt.EnhancedHashPassword(password, WorkFactor);

    public static bool Verify(string password, string hash)
    {
        try
        {
            return BCrypt.Net.BCrypt.EnhancedVerify(password, hash);
        }
        catch (BCrypt.Net.SaltParseException)
        {
            return false;
        }
    }

    /// <summary>Spends the same time as a real check, so unknown emails are not told apart by timing.</summary>
    public static void VerifyAgainstDummy(string password) => Verify(password, DummyHash.Value);

    private static readonly Lazy<string> DummyHash = new(() => Hash("dummy-password-for-timing-1A"));
}
