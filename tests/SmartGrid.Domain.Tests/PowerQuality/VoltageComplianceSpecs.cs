using SmartGrid.Domain.PowerQuality;

namespace SmartGrid.Domain.Tests.PowerQuality;

/// <summary>EN 50160 compliance and ANSI C84.1 range A over 10-minute means, with hand-checked examples at 230 V.</summary>
public class VoltageComplianceSpecs
{
    private static IEnumerable<double> Means(int normal, params double[] others) => Enumerable.Repeat(230.0, normal).Concat(others);

    [Fact]
    public void Should_be_compliant_with_exactly_95_percent_within_10_percent_and_every_mean_above_minus_15_percent()
    {
        // 200 V is outside ±10 % (207–253 V) but above −15 % (195.5 V): 19 of 20 = 95 %.
        var summary = VoltageCompliance.Of(Means(19, 200), 230);

        Assert.Equal(new VoltageCompliance(20, 0.95, 0.95, true, 200, 230), summary);
    }

    [Fact]
    public void Should_not_be_compliant_when_one_mean_falls_below_minus_15_percent()
    {
        Assert.False(VoltageCompliance.Of(Means(19, 195), 230).Compliant);
    }

    [Fact]
    public void Should_not_be_compliant_when_one_mean_rises_above_plus_10_percent()
    {
        // 254 V is above 253 V: outside the band and above the +10 % bound, even with 99 % inside.
        Assert.False(VoltageCompliance.Of(Means(99, 254), 230).Compliant);
    }

    [Fact]
    public void Should_not_be_compliant_below_95_percent_within_the_band()
    {
        var summary = VoltageCompliance.Of(Means(18, 200, 200), 230);

        Assert.Equal((0.9, false), (summary.WithinBandShare, summary.Compliant));
    }

    [Fact]
    public void Should_count_range_a_as_within_5_percent()
    {
        // ±5 % of 230 V is 218.5–241.5 V: 241 is in range A, 243 and 218 only in the ±10 % band.
        var summary = VoltageCompliance.Of([241, 243, 218, 230], 230);

        Assert.Equal((1.0, 0.5, true), (summary.WithinBandShare, summary.RangeAShare, summary.Compliant));
    }

    [Fact]
    public void Should_not_claim_compliance_without_windows()
    {
        Assert.Equal(new VoltageCompliance(0, null, null, null, null, null), VoltageCompliance.Of([], 230));
    }
}
