using System.Globalization;
using Spectre.Console;

namespace SmartGrid.Cmd;

/// <summary>
/// The console the tool prints to, as wide as it really is: <c>COLUMNS</c> when set, the terminal's width on a
/// terminal, and no limit when the output goes to a pipe or a file, where a line broken at 80 columns would
/// break every grep and awk after it.
/// </summary>
internal static class Terminal
{
    public const string ColumnsVariable = "COLUMNS";

    /// <summary>Wider than anything the tool prints: a table then keeps its natural width and a line its own length.</summary>
    public const int Unbounded = 1 << 16;

    public static IAnsiConsole Create()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        console.Profile.Width = Width(Environment.GetEnvironmentVariable(ColumnsVariable), Console.IsOutputRedirected, () => Console.WindowWidth);
        return console;
    }

    public static int Width(string? columns, bool redirected, Func<int> terminalWidth)
    {
        if (int.TryParse(columns, NumberStyles.None, CultureInfo.InvariantCulture, out var set) && set > 0) return Math.Min(set, Unbounded);
        if (redirected) return Unbounded;
        try
        {
            return terminalWidth() is > 0 and var width ? width : Unbounded;
        }
        catch (IOException)
        {
            return Unbounded; // no terminal after all (a closed tty)
        }
    }
}
