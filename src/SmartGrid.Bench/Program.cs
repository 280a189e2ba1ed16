using SmartGrid.Bench;

return await BenchCli.RunAsync(args);
