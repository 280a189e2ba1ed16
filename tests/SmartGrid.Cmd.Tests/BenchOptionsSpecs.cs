using System.CommandLine;
using SmartGrid.Bench;

namespace SmartGrid.Cmd.Tests;

/// <summary>
/// The benches' command line, parsed only: a usage error must stop a bench before it starts, because a bench that
/// ignored a mistyped option would print figures for a configuration nobody asked for.
/// </summary>
public sealed class BenchOptionsSpecs
{
    private static ParseResult Parse(params string[] args) => BenchCli.Root().Parse(args);

    private static string Errors(params string[] args) => string.Join("\n", Parse(args).Errors.Select(e => e.Message));

    [Fact]
    public async Task Should_refuse_a_mistyped_option_with_exit_code_2_before_anything_runs()
    {
        Assert.Contains("'--meter'", Errors("pipeline", "--meter", "2000"), StringComparison.Ordinal);
        // scale would start a broker and a node; a usage error returns first.
        Assert.Equal(BenchOptions.UsageError, await BenchCli.RunAsync(["scale", "--failover", "--bogus"]));
        Assert.Equal(BenchOptions.UsageError, await BenchCli.RunAsync(["no-such-bench"]));
    }

    [Fact]
    public void Should_refuse_a_bad_value_naming_the_option()
    {
        Assert.Equal("--meters needs an integer, not 'lots'", Errors("pipeline", "--meters", "lots"));
        Assert.Equal("--meters must be at least 1, not 0", Errors("pipeline", "--meters", "0"));
        Assert.Equal("--meters must be at least 1, not -5", Errors("scale", "--meters", "-5"));
        Assert.Equal("--start-utc-hour must be 0 to 23, not 24", Errors("alert-quality", "--start-utc-hour", "24"));
        Assert.Equal("--rate must be at least 100, not 99", Errors("alert-quality", "--rate", "99"));
        Assert.Equal("--consumer-property needs key=value, not 'fetch.wait.max.ms'", Errors("kafka", "--consumer-property", "fetch.wait.max.ms"));
        Assert.Equal("--from needs an ISO-8601 time, not 'yesterday'", Errors("faults", "--from", "yesterday"));
    }

    [Fact]
    public void Should_read_the_given_values_and_the_documented_defaults()
    {
        var defaults = Parse("pipeline");
        Assert.Empty(defaults.Errors);
        Assert.Equal((5_000, 20), (defaults.GetValue(PipelineBench.Meters), defaults.GetValue(PipelineBench.StepSeconds)));
        var given = Parse("pipeline", "--meters", "2_000", "--step-seconds", "15");
        Assert.Equal((2_000, 15), (given.GetValue(PipelineBench.Meters), given.GetValue(PipelineBench.StepSeconds)));

        // The fleet's size depends on --soak, so the run decides it when --meters is not given.
        Assert.Null(Parse("scale", "--soak").GetValue(ScaleBench.Meters));
        Assert.True(Parse("scale", "--failover").GetValue(ScaleBench.Failover));

        var kafka = Parse("kafka", "--consumer-property", "fetch.wait.max.ms=10", "--consumer-property", "check.crcs=true");
        Assert.Equal([KeyValuePair.Create("fetch.wait.max.ms", "10"), KeyValuePair.Create("check.crcs", "true")], kafka.GetValue(KafkaBench.ConsumerProperty));
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.Zero), Parse("faults", "--from", "2026-12-07T10:00:00Z").GetValue(FaultsCommand.From));
    }

    [Fact]
    public void Should_list_each_option_with_its_default_in_help()
    {
        var output = new StringWriter();
        Assert.Equal(0, Parse("recovery", "--help").Invoke(new InvocationConfiguration { Output = output }));
        var help = output.ToString();
        Assert.Contains("--meters", help, StringComparison.Ordinal);
        Assert.Contains("[default: 5000]", help, StringComparison.Ordinal);
        Assert.Contains("--parallelism", help, StringComparison.Ordinal);
        Assert.Contains("[default: 256]", help, StringComparison.Ordinal);
    }
}
