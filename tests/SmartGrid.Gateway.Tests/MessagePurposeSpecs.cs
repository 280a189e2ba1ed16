using SmartGrid.Gateway.Auth;

namespace SmartGrid.Gateway.Tests;

/// <summary>A message purpose is text in otp_verifications.purpose and in the names a message is sent or dropped under.</summary>
public sealed class MessagePurposeSpecs
{
    [Fact]
    public void Should_spell_each_purpose_as_the_codes_table_holds_it()
    {
        Assert.Equal(["EMAIL_VERIFICATION", "REGISTRATION_ATTEMPT", "EMAIL_CONFIRMATION", "PHONE_CONFIRMATION"],
            Enum.GetValues<MessagePurpose>().Select(p => p.ToWireName()));
    }

    [Fact]
    public async Task Should_name_a_dropped_message_after_its_purpose()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"maildrop-{Guid.NewGuid():N}");
        try
        {
            var messenger = new MailDropMessenger(directory, TimeProvider.System);
            await messenger.SendAsync(new AccountMessage(Guid.NewGuid(), "email", "a@grid.test", MessagePurpose.EmailConfirmation, "123456",
                DateTimeOffset.UnixEpoch), CancellationToken.None);

            Assert.Contains("Z-a@grid.test-email_confirmation-", Path.GetFileName(Assert.Single(Directory.GetFiles(directory))));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
