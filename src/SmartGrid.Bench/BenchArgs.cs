using System.Globalization;

namespace SmartGrid.Bench;

/// <summary>Minimal "--name value" option parsing shared by the subcommands.</summary>
internal sealed class BenchArgs(string[] args)
{
    public int Int(string name, int fallback)
    {
        var index = Array.IndexOf(args, "--" + name);
        if (index < 0)
            return fallback;
        if (index + 1 >= args.Length || !int.TryParse(args[index + 1].Replace("_", ""), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            throw new ArgumentException($"--{name} needs an integer value");
        return value;
    }

    /// <summary>Whether the bare switch "--name" was given.</summary>
    public bool Flag(string name) => Array.IndexOf(args, "--" + name) >= 0;

    public string? Text(string name)
    {
        var index = Array.IndexOf(args, "--" + name);
        if (index < 0)
            return null;
        if (index + 1 >= args.Length)
            throw new ArgumentException($"--{name} needs a value");
        return args[index + 1];
    }
}
