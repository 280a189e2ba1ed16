namespace SmartGrid.Gateway.Tests;

public sealed class GatewayOptionsSpecs
{
    [Fact]
    public void Should_refuse_the_development_signing_key_in_production()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new GatewayOptions().Validate(isProduction: true));
        Assert.Contains("SmartGrid:Gateway:SigningKey", e.Message);
        new GatewayOptions().Validate(isProduction: false);
        new GatewayOptions { SigningKey = new string('k', 48) }.Validate(isProduction: true);
    }

    [Fact]
    public void Should_refuse_a_short_signing_key()
    {
        Assert.Throws<InvalidOperationException>(() => new GatewayOptions { SigningKey = "too-short" }.Validate(isProduction: false));
    }
}
