namespace SmartGrid.Gateway.Auth;

/// <summary>
/// NIST SP 800-63B: at least 12 characters, no composition rules, refused when it is a common or
/// breached password (the shipped list, <c>common-passwords.txt</c>, compared case-insensitively),
/// mostly one repeated or sequential run ("Aaaaaaaaaaa1", "abcdefgh1234"), or contains the
/// email's local part. BCrypt reads at most 72 bytes, so longer passwords are refused rather than
/// silently truncated.
/// </summary>
public static class PasswordPolicy
{
    public const int MinLength = 12;
    public const int MaxBytes = 72;
    public const int WorkFactor = 11;

    private static readonly Lazy<HashSet<string>> Common = new(LoadCommon);

    /// <summary>What is wrong with the password, or empty when it is acceptable.</summary>
    public static IReadOnlyList<string> Check(string password, string? email)
    {
        var problems = new List<string>();
        if (password.Length < MinLength)
            problems.Add($"must be at least {MinLength} characters");
        if (System.Text.Encoding.UTF8.GetByteCount(password) > MaxBytes)
            problems.Add($"must be at most {MaxBytes} bytes of UTF-8");
        if (Common.Value.Contains(password))
            problems.Add("is one of the most common leaked passwords; choose another (a few unrelated words make a good one)");
        else if (LongestRun(password) * 2 >= password.Length)
            problems.Add("is mostly one repeated or sequential run of characters");
        var local = email?.Split('@')[0];
        if (local is { Length: >= 4 } && password.Contains(local, StringComparison.OrdinalIgnoreCase))
            problems.Add("must not contain the email's local part");
        return problems;
    }

    /// <summary>Longest stretch in which each character repeats the previous one or follows it up or down (aaaa, abcd, 4321), ignoring case.</summary>
    private static int LongestRun(string password)
    {
        var text = password.ToLowerInvariant();
        int longest = 1, repeat = 1, ascending = 1, descending = 1;
        for (var i = 1; i < text.Length; i++)
        {
            var step = text[i] - text[i - 1];
            repeat = step == 0 ? repeat + 1 : 1;
            ascending = step == 1 ? ascending + 1 : 1;
            descending = step == -1 ? descending + 1 : 1;
            longest = Math.Max(longest, Math.Max(repeat, Math.Max(ascending, descending)));
        }
        return longest;
    }

    private static HashSet<string> LoadCommon()
    {
        using var stream = typeof(PasswordPolicy).Assembly.GetManifestResourceStream("SmartGrid.Gateway.common-passwords.txt")
            ?? throw new InvalidOperationException("The embedded common-passwords list is missing from the build");
        using var reader = new StreamReader(stream);
        var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && line[0] != '#')
                set.Add(line);
        }
        return set;
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

    private static readonly Lazy<string> DummyHash = new(() => Hash("dummy-password-for-timing"));
}
