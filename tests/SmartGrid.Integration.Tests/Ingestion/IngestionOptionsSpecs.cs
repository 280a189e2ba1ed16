using Microsoft.Extensions.Configuration;
using SmartGrid.Node.Ingestion;

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
