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
catch (InvalidOperationException e) when (e.Source is not null)
{
    Console.Error.WriteLine($"smartgrid: {e.Message}");
    return 1;
}
