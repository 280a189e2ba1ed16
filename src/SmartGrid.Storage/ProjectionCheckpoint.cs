namespace SmartGrid.Storage;

/// <summary>
/// A projection's position in the event journal (Akka.Persistence.Query ordering) to store
/// together with the rows it produced.
/// </summary>
public sealed record ProjectionCheckpoint(string ProjectionId, long Ordering);
