using SmartGrid.Node.Management;

namespace SmartGrid.Cmd.Tests;

public sealed class SecretMaskerSpecs
{
    [Theory]
    [InlineData("SmartGrid:Management:Token", "abcdefghijklmnopqrstu")]
    [InlineData("SmartGrid:Gateway:SigningKey", "development-signing-key")]
    [InlineData("SmartGrid:Metrics:ScrapeToken", "scrape-token-0123456789")]
    [InlineData("SmartGrid:Notifications:Sms:ApiKey", "k-123")]
    [InlineData("SmartGrid:Notifications:Smtp:Password", "hunter2")]
    [InlineData("Some:Credentials", "x")]
    public void Should_mask_values_of_secret_keys(string key, string value) =>
        Assert.Equal(SecretMasker.Mask, SecretMasker.MaskValue(key, value));

    [Fact]
    public void Should_mask_only_the_password_of_a_connection_string()
    {
        Assert.Equal("Host=db;Port=5432;Username=postgres;Password=****;Database=smartgrid",
            SecretMasker.MaskValue("ConnectionStrings:Postgres", "Host=db;Port=5432;Username=postgres;Password=s3cr3t;Database=smartgrid"));
        Assert.Equal("Host=db;pwd=****", SecretMasker.MaskValue("ConnectionStrings:Other", "Host=db;pwd=x"));
        Assert.Equal("redis:6379,password=****,ssl=true", SecretMasker.MaskValue("ConnectionStrings:Redis", "redis:6379,password=abc,ssl=true"));
    }

    [Fact]
    public void Should_mask_credentials_in_urls()
    {
        Assert.Equal("https://svc:****@sms.example/api", SecretMasker.MaskValue("SmartGrid:Notifications:Sms:BaseUrl", "https://svc:pa55@sms.example/api"));
    }

    [Theory]
    [InlineData("SmartGrid:Kafka:BootstrapServers", "127.0.0.1:9092")]
    [InlineData("ConnectionStrings:Postgres", "Host=127.0.0.1;Port=5432;Username=postgres;Database=smartgrid")]
    [InlineData("SmartGrid:Regions:0:Name", "Nashik")]
    [InlineData("SmartGrid:Notifications:Sms:BaseUrl", "https://sms.example/api")]
    [InlineData("SmartGrid:Redis:Keys", "tariff:")]
    public void Should_leave_ordinary_values_alone(string key, string value) =>
        Assert.Equal(value, SecretMasker.MaskValue(key, value));
}
