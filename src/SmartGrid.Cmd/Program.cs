using Spectre.Console;
using SmartGrid.Cmd;

return await new CmdApp(AnsiConsole.Console).RunAsync(args, CancellationToken.None);
