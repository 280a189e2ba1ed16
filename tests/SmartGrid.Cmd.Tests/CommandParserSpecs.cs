namespace SmartGrid.Cmd.Tests;

public sealed class CommandParserSpecs
{
    private readonly CommandParser _parser = new();

    private NodeRequest Request(params string[] args) =>
        Assert.IsType<ParsedLine.Run>(_parser.Parse(args)).Request;

    private string Usage(params string[] args) =>
        Assert.IsType<ParsedLine.Usage>(_parser.Parse(args)).Message;

    [Fact]
    public void Should_map_each_palette_command_to_its_route()
    {
        Assert.Equal("cluster/show", Request("cluster", "show").PathAndQuery);
        Assert.Equal(HttpMethod.Get, Request("cluster", "show").Method);
        Assert.Equal("cluster-sharding/region-stats?r=meter", Request("cluster-sharding", "region-stats", "-r", "meter").PathAndQuery);
        Assert.Equal("cluster-sharding/shard-stats?r=region", Request("cluster-sharding", "shard-stats", "--type", "region").PathAndQuery);
        Assert.Equal("log/peek?n=20", Request("log", "peek", "-n", "20").PathAndQuery);
        Assert.Equal("log/peek", Request("log", "peek").PathAndQuery);
        Assert.Equal("actor/hierarchy?d=5&system=true", Request("actor", "hierarchy", "-d", "5", "--system").PathAndQuery);
        Assert.Equal("kafka/lag", Request("kafka", "lag").PathAndQuery);
        Assert.Equal("singleton/show", Request("singleton", "show").PathAndQuery);
        Assert.True(Request("cluster", "tail").Streams);
        var down = Request("cluster", "down", "akka.tcp://smartgrid@127.0.0.1:4053");
        Assert.Equal(HttpMethod.Post, down.Method);
        Assert.Equal("cluster/down?address=akka.tcp%3A%2F%2Fsmartgrid%40127.0.0.1%3A4053", down.PathAndQuery);
    }

    [Fact]
    public void Should_cover_every_catalog_command()
    {
        foreach (var spec in CommandCatalog.All)
        {
            var args = spec.Usage.Split(' ').Where(w => !w.Contains('[') && !w.Contains(']')).Select(w => w switch
            {
                "<address>" => "127.0.0.1:4053",
                "<type>" => "meter",
                _ => w,
            }).ToArray();
            var request = Request(args);
            Assert.Equal(spec.FullName, request.Command);
        }
    }

    [Fact]
    public void Should_take_host_and_token_before_or_after_the_command()
    {
        var args = new[] { "--host", "10.0.0.5:9111", "cluster", "show", "--token", "s3cret-token-0123456789" };
        Assert.Equal("cluster/show", Request(args).PathAndQuery);
        Assert.Equal(("10.0.0.5:9111", "s3cret-token-0123456789"), _parser.Connection(args));
        Assert.Equal(CommandParser.DefaultHost, _parser.Connection(["cluster", "show"]).Host);
    }

    [Fact]
    public void Should_start_the_prompt_without_a_command_and_show_help_when_asked()
    {
        Assert.IsType<ParsedLine.Interactive>(_parser.Parse([]));
        Assert.IsType<ParsedLine.Interactive>(_parser.Parse(["--host", "127.0.0.1:9110"]));
        Assert.Null(Assert.IsType<ParsedLine.Help>(_parser.Parse(["help"])).Palette);
        Assert.Equal("cluster", Assert.IsType<ParsedLine.Help>(_parser.Parse(["help", "cluster"])).Palette);
        Assert.Equal("cluster", Assert.IsType<ParsedLine.Help>(_parser.Parse(["cluster", "--help"])).Palette);
    }

    [Fact]
    public void Should_suggest_the_nearest_command_for_an_unknown_one()
    {
        Assert.Equal("unknown command 'cluster shwo'. Did you mean 'cluster show'?", Usage("cluster", "shwo"));
        Assert.Contains("Did you mean 'cluster-sharding regions'?", Usage("sharding", "regions"));
        Assert.Contains("Did you mean 'cluster leave'?", Usage("cluster", "leav", "127.0.0.1:1"));
        Assert.Contains("Did you mean 'kafka lag'?", Usage("kafak", "lag"));
        Assert.Contains("Did you mean 'cluster-sharding ", Usage("cluster-sharding", "stats"));
        Assert.Equal("unknown command 'frobnicate'. Type 'help' for the list.", Usage("frobnicate"));
    }

    [Fact]
    public void Should_name_missing_arguments_with_the_usage()
    {
        Assert.Contains("Usage: cluster leave <address>", Usage("cluster", "leave"));
        Assert.Contains("Usage: cluster-sharding region-stats -r <type>", Usage("cluster-sharding", "region-stats"));
        Assert.Contains("Usage: log peek [-n <lines>]", Usage("log", "peek", "-n", "many"));
        Assert.Contains("needs a command: show, leader, unreachable", Usage("cluster"));
    }

    [Theory]
    [InlineData("cluster show", "cluster show", 0)]
    [InlineData("cluster shwo", "cluster show", 1)]
    [InlineData("clstr show", "cluster show", 2)]
    [InlineData("node cofnig", "node config", 1)]
    public void Should_measure_typos_in_edits(string typed, string known, int edits) =>
        Assert.Equal(edits, CommandCatalog.Distance(typed, known));

    [Theory]
    [InlineData("127.0.0.1:9110", "127.0.0.1:9110")]
    [InlineData("http://node-2:9110/", "node-2:9110")]
    [InlineData(" localhost:19110 ", "localhost:19110")]
    public void Should_accept_host_port(string given, string expected) => Assert.Equal(expected, NodeClient.NormalizeHost(given));

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:9110/cmd")]
    [InlineData("user@host:9110")]
    [InlineData("not a host")]
    public void Should_refuse_a_host_without_a_port(string given) =>
        Assert.Equal(ExitCodes.Usage, Assert.Throws<CommandFailedException>(() => NodeClient.NormalizeHost(given)).ExitCode);
}
