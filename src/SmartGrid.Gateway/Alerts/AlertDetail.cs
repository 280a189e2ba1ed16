using SmartGrid.Contracts.Alerts;

namespace SmartGrid.Gateway.Alerts;

/// <summary>One alert with its lifecycle (raised, acknowledged, resolved), oldest event first.</summary>
public sealed record AlertDetail(AlertView Alert, IReadOnlyList<AlertEvent> Events);

/// <summary>The optional body of acknowledge and resolve.</summary>
public sealed record AlertActionBody(string? Note)
{
    public const int MaxNoteLength = 1000;
}
