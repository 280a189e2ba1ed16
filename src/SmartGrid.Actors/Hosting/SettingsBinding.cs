using Microsoft.Extensions.Configuration;

namespace SmartGrid.Actors.Hosting;

/// <summary>The one way a node reads a settings section.</summary>
public static class SettingsBinding
{
    /// <summary>
    /// Binds <paramref name="section"/> onto the type's defaults (an absent section is the
    /// defaults, never a half-bound object) and runs <paramref name="validate"/>, which throws
    /// naming the key's full path: a bad value stops start-up, loudly.
    /// </summary>
    public static T BindValidated<T>(this IConfiguration configuration, string section, Func<T, T> validate) where T : class, new()
    {
        var settings = new T();
        configuration.GetSection(section).Bind(settings);
        return validate(settings);
    }
}
