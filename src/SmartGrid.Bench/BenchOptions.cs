using System.CommandLine.Parsing;
using System.Globalization;

namespace SmartGrid.Bench;

/// <summary>
/// The benches' typed options. Each default is written once, on its option, so the help prints the value the run
/// uses; a mistyped name or a bad value stops the run with <see cref="UsageError"/> rather than measuring a
/// configuration nobody asked for.
/// </summary>
internal static class BenchOptions
{
    public const int UsageError = 2;

    /// <summary>An integer option in [<paramref name="minimum"/>, <paramref name="maximum"/>]; digits may be grouped with '_' (1_000_000).</summary>
    public static Option<int> Int(string name, int defaultValue, string description, int minimum = 1, int maximum = int.MaxValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => ParseInt(result, name, minimum, maximum) ?? defaultValue,
    };

    /// <summary>An integer option of at least 1 whose default depends on other options, so the run decides it.</summary>
    public static Option<int?> OptionalInt(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result => ParseInt(result, name, 1, int.MaxValue),
    };

    private static int? ParseInt(ArgumentResult result, string name, int minimum, int maximum)
    {
        var text = result.Tokens[0].Value;
        if (!int.TryParse(text.Replace("_", ""), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            result.AddError($"{name} needs an integer, not '{text}'");
        else if (value < minimum || value > maximum)
            result.AddError(maximum == int.MaxValue ? $"{name} must be at least {minimum}, not {value}" : $"{name} must be {minimum} to {maximum}, not {value}");
        else
            return value;
        return null;
    }

    /// <summary>A bench subcommand whose run takes its one option's value.</summary>
    public static Command Command<T1>(string name, string description, Option<T1> first, Func<T1, Task<int>> run) =>
        Command(name, description, parse => run(parse.GetValue(first)!), first);

    /// <summary>A bench subcommand whose run takes its two options' values.</summary>
    public static Command Command<T1, T2>(string name, string description, Option<T1> first, Option<T2> second, Func<T1, T2, Task<int>> run) =>
        Command(name, description, parse => run(parse.GetValue(first)!, parse.GetValue(second)!), first, second);

    /// <summary>A bench subcommand whose run takes its three options' values.</summary>
    public static Command Command<T1, T2, T3>(string name, string description, Option<T1> first, Option<T2> second, Option<T3> third,
        Func<T1, T2, T3, Task<int>> run) =>
        Command(name, description, parse => run(parse.GetValue(first)!, parse.GetValue(second)!, parse.GetValue(third)!), first, second, third);

    /// <summary>A bench subcommand with more options: the run reads them from the parse.</summary>
    public static Command Command(string name, string description, Func<ParseResult, Task<int>> run, params Option[] options)
    {
        var command = new Command(name, description);
        foreach (var option in options)
            command.Options.Add(option);
        command.SetAction((parse, _) => run(parse));
        return command;
    }
}
