using SmartGrid.Domain.Alerts;
using SmartGrid.Domain.PowerQuality;

namespace SmartGrid.Domain.Tests.PowerQuality;

/// <summary>When a meter's voltage raises a POWER_QUALITY or SWELL alert, with hand-checked numbers (230 V nominal).</summary>
public class PowerQualityAlertRuleSpecs
{
    private static readonly PowerQualityAlertPolicy Policy = new(TimeSpan.FromDays(7), MinimumWindows: 144, SwellQuiet: TimeSpan.FromHours(1));

    [Fact]
    public void Should_judge_compliance_only_with_enough_means_and_by_en_50160()
    {
        // 144 means, 8 at 205 V (−10.9 %): 136 / 144 = 94.4 % within ±10 %: non-compliant.
        Assert.True(Policy.NonCompliant(VoltageCompliance.Of(Enumerable.Repeat(230.0, 136).Concat(Enumerable.Repeat(205.0, 8)), 230)));
        // 7 at 205 V: 137 / 144 = 95.1 %: compliant.
        Assert.False(Policy.NonCompliant(VoltageCompliance.Of(Enumerable.Repeat(230.0, 137).Concat(Enumerable.Repeat(205.0, 7)), 230)));
        // One mean at 195 V (−15.2 %) breaks the bound whatever the share.
        Assert.True(Policy.NonCompliant(VoltageCompliance.Of(Enumerable.Repeat(230.0, 143).Append(195.0), 230)));
        // 143 means are not enough to judge, however bad.
        Assert.Null(Policy.NonCompliant(VoltageCompliance.Of(Enumerable.Repeat(150.0, 143), 230)));
    }

    [Fact]
    public void Should_count_the_same_compliance_from_a_databases_counts_as_from_the_means()
    {
        double[] means = [230, 205, 241.6, 195.6, 252, 218.4, 231];
        var fromMeans = VoltageCompliance.Of(means, 230);
        // Within ±10 % (207–253 V): 230, 241.6, 252, 218.4, 231 = 5; within ±5 % (218.5–241.5 V): 230, 231 = 2.
        Assert.Equal(fromMeans, VoltageCompliance.OfCounts(7, 5, 2, 195.6, 252, 230));
        Assert.Equal((7, 5.0 / 7, 2.0 / 7, false), (fromMeans.Windows, fromMeans.WithinBandShare, fromMeans.RangeAShare, fromMeans.Compliant));
    }

    [Fact]
    public void Should_make_a_swell_high_from_115_percent_of_nominal()
    {
        Assert.Equal(Severity.Medium, PowerQualityAlertPolicy.SwellSeverity(264.4, 230));
        Assert.Equal(Severity.High, PowerQualityAlertPolicy.SwellSeverity(264.5, 230));
    }
}
