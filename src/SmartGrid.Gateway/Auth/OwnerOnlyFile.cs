using System.Text;

namespace SmartGrid.Gateway.Auth;

/// <summary>Secrets on disk (the generated signing key, development mail): created new, readable and writable by the owner only.</summary>
internal static class OwnerOnlyFile
{
    /// <exception cref="IOException">The file exists already.</exception>
    public static StreamWriter CreateNew(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return new StreamWriter(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), options);
    }
}
