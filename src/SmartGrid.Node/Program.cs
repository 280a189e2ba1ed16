using SmartGrid.Node;

// `SmartGrid.Node kafka --bootstrap-file F` runs a standalone embedded broker for multi-process
// runs; anything else starts a cluster node with the roles from configuration (default: all).
if (args.Length > 0 && args[0] == "kafka")
{
    return await StandaloneKafka.RunAsync(args[1..]);
}

try
{
    var app = SmartGridNode.Build(args);
    await app.RunAsync();
    return 0;
}
catch (Exception e) when (e is InvalidOperationException or IOException or ArgumentException or System.Data.Common.DbException)
{
    // Start-up failures (configuration, a port in use, a database that cannot be reached) end
    // with one line saying what, not a stack trace.
    Console.Error.WriteLine($"smartgrid: {e.Message}{(e.InnerException is { } inner ? $" ({inner.Message})" : "")}");
    return 1;
}
