using Spectre.Console;

namespace SmartGrid.Cmd.Tests.Infrastructure;

/// <summary>A Spectre console that writes plain text (no colours, wide enough for addresses) into a string.</summary>
public sealed class RecordingConsole : IDisposable
{
    private readonly StringWriter _out = new();

    public RecordingConsole()
    {
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(_out),
        });
        Console.Profile.Width = 240;
    }

    public IAnsiConsole Console { get; }
    public string Text => _out.ToString();

    public void Dispose() => _out.Dispose();
}
