namespace SmartGrid.Cmd;

/// <summary>
/// The interactive prompt's line input: up/down recall earlier commands, left/right/home/end/backspace/delete
/// edit the line. When input is redirected (scripts, tests) it reads plain lines instead.
/// </summary>
internal sealed class LineEditor(TextReader? input, IReadOnlyList<string> history)
{
    public string? ReadLine(string prompt)
    {
        if (input is not null) return input.ReadLine();
        if (Console.IsInputRedirected) return Console.ReadLine();

        var line = new List<char>();
        var cursor = 0;
        var recalled = history.Count;
        var shown = 0;
        Console.Write(prompt);
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    Console.WriteLine();
                    return new string(line.ToArray());
                case ConsoleKey.Backspace when cursor > 0:
                    line.RemoveAt(--cursor);
                    break;
                case ConsoleKey.Delete when cursor < line.Count:
                    line.RemoveAt(cursor);
                    break;
                case ConsoleKey.LeftArrow when cursor > 0:
                    cursor--;
                    break;
                case ConsoleKey.RightArrow when cursor < line.Count:
                    cursor++;
                    break;
                case ConsoleKey.Home:
                    cursor = 0;
                    break;
                case ConsoleKey.End:
                    cursor = line.Count;
                    break;
                case ConsoleKey.UpArrow when recalled > 0:
                    line = [.. history[--recalled]];
                    cursor = line.Count;
                    break;
                case ConsoleKey.DownArrow when recalled < history.Count:
                    recalled++;
                    line = recalled == history.Count ? [] : [.. history[recalled]];
                    cursor = line.Count;
                    break;
                case ConsoleKey.D when key.Modifiers.HasFlag(ConsoleModifiers.Control) && line.Count == 0:
                    Console.WriteLine();
                    return null;
                default:
                    if (!char.IsControl(key.KeyChar)) line.Insert(cursor++, key.KeyChar);
                    break;
            }
            // Redraw the whole line: simple, and correct for anything that fits on one terminal row.
            var text = new string(line.ToArray());
            Console.Write('\r' + prompt + text + new string(' ', Math.Max(0, shown - text.Length)));
            Console.Write(new string('\b', Math.Max(0, shown - text.Length) + text.Length - cursor));
            shown = text.Length;
        }
    }
}
