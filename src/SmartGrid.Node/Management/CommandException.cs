namespace SmartGrid.Node.Management;

/// <summary>A command that cannot be carried out, answered as problem+json with this status (the CLI prints the detail).</summary>
public sealed class CommandException(int status, string title, string detail, string? field = null) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;
    public string? Field { get; } = field;

    public static CommandException BadInput(string field, string reason) => new(StatusCodes.Status400BadRequest, "Invalid command input", reason, field);
    public static CommandException NotFound(string title, string detail) => new(StatusCodes.Status404NotFound, title, detail);
    public static CommandException Conflict(string title, string detail) => new(StatusCodes.Status409Conflict, title, detail);
    public static CommandException Unavailable(string detail) => new(StatusCodes.Status503ServiceUnavailable, "Not available on this node", detail);
}
