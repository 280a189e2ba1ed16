using SmartGrid.Cmd;

return await new CmdApp(Terminal.Create()).RunAsync(args, CancellationToken.None);
