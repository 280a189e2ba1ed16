using Microsoft.Extensions.Configuration;

namespace SmartGrid.Storage;

/// <summary>The one way a node reads a settings section.</summary>
public static class SettingsBinding
{
    /// <summary>
    /// Binds <paramref name="section"/> onto the type's defaults (an absent section is the
    /// defaults, never a half-bound object) and runs <paramref name="validate"/>, which throws
    /// naming the key's full path: a bad value stops start-up, loudly. With <paramref name="refuseUnknownKeys"/>
    /// a key the type does not have (a typo, a retired setting) is refused too, rather than silently ignored.
    /// </summary>
    public static T BindValidated<T>(this IConfiguration configuration, string section, Func<T, T> validate, bool refuseUnknownKeys = false)
        where T : class, new()
    {
        var settings = new T();
        try
        {
            configuration.GetSection(section).Bind(settings, o => o.ErrorOnUnknownConfiguration = refuseUnknownKeys);
        }
        catch (InvalidOperationException e)
        {
            // The binder names the key of a value it cannot convert, but not the section of an unknown key.
            throw new InvalidOperationException($"Configuration {section}: {e.Message}", e);
        }
        return validate(settings);
    }
}
