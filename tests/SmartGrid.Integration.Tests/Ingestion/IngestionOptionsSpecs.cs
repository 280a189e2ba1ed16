using Microsoft.Extensions.Configuration;
using SmartGrid.Ingestion;

namespace SmartGrid.Integration.Tests.Ingestion;

public sealed class IngestionOptionsSpecs
{
    [Fact]
    public void Should_bind_from_the_ingestion_section_with_defaults_for_what_is_missing()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SmartGrid:Ingestion:MaxBatch"] = "1000",
            ["SmartGrid:Ingestion:RequireRegisteredMeters"] = "true",
        }).Build();

        var options = configuration.GetSection(IngestionOptions.Section).Get<IngestionOptions>()!.Validate();

        Assert.Equal(1000, options.MaxBatch);
        Assert.True(options.RequireRegisteredMeters);
        Assert.Equal(16 * 1024 * 1024, options.MaxBodyBytes);
        Assert.Equal(new IngestionOptions { MaxBatch = 1000, RequireRegisteredMeters = true }, options);
    }

    [Fact]
    public void Should_refuse_out_of_range_values_naming_the_setting()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new IngestionOptions { MaxBatch = 0 }.Validate());
        Assert.Contains("SmartGrid:Ingestion:MaxBatch", e.Message);
    }

    [Theory]
    [InlineData("-00:00:01")]
    [InlineData("00:05:01")]
    public void Should_refuse_a_clock_skew_below_zero_or_beyond_five_minutes(string skew)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SmartGrid:Ingestion:MaxClockSkew"] = skew,
        }).Build();

        var e = Assert.Throws<InvalidOperationException>(() => configuration.GetSection(IngestionOptions.Section).Get<IngestionOptions>()!.Validate());
        Assert.Contains("SmartGrid:Ingestion:MaxClockSkew", e.Message);
    }

    [Fact]
    public void Should_bound_readings_to_30_seconds_ahead_by_default_and_hand_the_skew_to_the_reading_rules()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), new IngestionOptions().MaxClockSkew);
        Assert.Equal(TimeSpan.FromMinutes(2), new IngestionOptions { MaxClockSkew = TimeSpan.FromMinutes(2) }.ReadingRules().MaxClockSkew);
    }

    [Fact]
    public void Should_require_keys_and_registered_meters_by_default_and_allow_the_open_mode_only_in_development()
    {
        var defaults = new IngestionOptions();
        Assert.True(defaults.RequireApiKey);
        Assert.True(defaults.RequireRegisteredMeters);

        var open = defaults with { RequireApiKey = false };
        var e = Assert.Throws<InvalidOperationException>(() => open.Validate(development: false));
        Assert.Contains("SmartGrid:Ingestion:RequireApiKey", e.Message);
        Assert.Same(open, open.Validate(development: true));
    }
}
