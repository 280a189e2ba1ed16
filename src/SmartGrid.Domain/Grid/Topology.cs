using SmartGrid.Domain.Telemetry;

namespace SmartGrid.Domain.Grid;

/// <summary>The levels of the grid: a region is its substation; feeders hang on it, transformers on a feeder, meters on a transformer.</summary>
public enum GridNodeKind { Region, Feeder, Transformer }

/// <summary>
/// A feeder or transformer as the operator defines it: its parent (a feeder's region, a
/// transformer's feeder) and the real-power rating in kW its load percentage is measured against.
/// </summary>
public sealed record GridNodeSpec(string Id, GridNodeKind Kind, string ParentId, double RatedKw);

public static class Topology
{
    public const int IdMaxLength = 64;

    public const string IdRule = "1-64 letters, digits, '-', '_' or '.', starting with a letter or digit";

    /// <summary>The kind as stored and answered: region, feeder or transformer.</summary>
    public static string Name(this GridNodeKind kind) => kind switch
    {
        GridNodeKind.Region => "region",
        GridNodeKind.Feeder => "feeder",
        GridNodeKind.Transformer => "transformer",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static GridNodeKind ParseKind(string kind) => kind switch
    {
        "region" => GridNodeKind.Region,
        "feeder" => GridNodeKind.Feeder,
        "transformer" => GridNodeKind.Transformer,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a grid node kind"),
    };

    /// <summary>The kind a node of <paramref name="kind"/> hangs on.</summary>
    public static GridNodeKind ParentKind(this GridNodeKind kind) => kind switch
    {
        GridNodeKind.Feeder => GridNodeKind.Region,
        GridNodeKind.Transformer => GridNodeKind.Feeder,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "a region hangs on nothing"),
    };

    /// <summary>
    /// A node id's alphabet: no spaces, commas or quotes, because ids travel in URLs, Redis keys and
    /// unquoted CSV cells, and a cell that needs quoting is therefore malformed.
    /// </summary>
    public static bool IsValidId(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > IdMaxLength || !char.IsAsciiLetterOrDigit(id[0]))
            return false;
        foreach (var c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
                return false;
        }
        return true;
    }

    /// <summary>What is wrong with <paramref name="node"/>, one error per field (id, parent, rated_kw); empty when fine.</summary>
    public static IReadOnlyList<FieldError> Check(GridNodeSpec node)
    {
        var errors = new List<FieldError>();
        if (node.Kind == GridNodeKind.Region)
            errors.Add(new("kind", "regions are created under /admin/regions"));
        if (!IsValidId(node.Id))
            errors.Add(new("id", IdRule));
        var parentField = node.Kind == GridNodeKind.Feeder ? "region" : "feeder_id";
        if (node.Kind == GridNodeKind.Feeder ? !Regions.IsValidName(node.ParentId) : !IsValidId(node.ParentId))
            errors.Add(new(parentField, node.Kind == GridNodeKind.Feeder ? Regions.NameRule : IdRule));
        if (!(node.RatedKw > 0) || double.IsInfinity(node.RatedKw))
            errors.Add(new("rated_kw", "must be a positive number of kW"));
        return errors;
    }
}
