using SmartGrid.Cmd.Tests.Infrastructure;

namespace SmartGrid.Cmd.Tests;

/// <summary>The tool end to end where no node is needed: errors before the network, an unreachable node, the prompt.</summary>
public sealed class CliSpecs
{
    [Fact]
    public async Task Should_say_the_node_is_unreachable_when_nothing_listens()
    {
        var port = FreePort.Next(); // free a moment ago, so nothing listens there
        var console = new RecordingConsole();
        var code = await new CmdApp(console.Console).RunAsync(["--host", $"127.0.0.1:{port}", "cluster", "show"], CancellationToken.None);
        Assert.Equal(ExitCodes.Unreachable, code);
        Assert.Contains($"cannot reach node 127.0.0.1:{port}", console.Text);
    }

    [Fact]
    public async Task Should_reject_an_unknown_command_with_a_suggestion_without_calling_the_node()
    {
        var console = new RecordingConsole();
        // Port 1 would fail as unreachable (exit 3): a usage error (exit 2) proves nothing was sent.
        var code = await new CmdApp(console.Console).RunAsync(["--host", "127.0.0.1:1", "cluster", "shwo"], CancellationToken.None);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("unknown command 'cluster shwo'. Did you mean 'cluster show'?", console.Text);
    }

    [Fact]
    public async Task Should_run_the_prompt_with_help_history_and_recall()
    {
        var console = new RecordingConsole();
        var input = new StringReader(string.Join('\n', "help", "cluster shwo", "log peek -n x", "history", "!2", "exit", "node health"));
        var app = new CmdApp(console.Console, input);
        var code = await app.RunAsync(["--host", "127.0.0.1:1"], CancellationToken.None);

        Assert.Equal(ExitCodes.Ok, code);
        var text = console.Text;
        Assert.Contains("[127.0.0.1:1] smartgrid> ", text);
        Assert.Contains("cluster-sharding region-stats -r <type>", text); // help lists the commands
        Assert.Contains("Did you mean 'cluster show'?", text);
        Assert.Contains("   1  help", text);
        Assert.Contains("   3  log peek -n x", text);
        // !2 ran "cluster shwo" again; "exit" ended the prompt before "node health".
        Assert.Equal(2, text.Split("Did you mean 'cluster show'?").Length - 1);
        Assert.Equal(["help", "cluster shwo", "log peek -n x", "history", "cluster shwo"], app.History);
    }
}
