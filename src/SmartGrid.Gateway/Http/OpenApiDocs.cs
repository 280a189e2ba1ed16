namespace SmartGrid.Gateway.Http;

/// <summary>A query parameter a handler reads itself (<see cref="QueryReader"/>), declared for the OpenAPI document.</summary>
public sealed record QueryParameterDoc(string Name, string Description, bool Required = false);

/// <summary>An example of the JSON body a handler reads itself (<see cref="JsonBody"/>), for the OpenAPI document.</summary>
public sealed record JsonBodyExample(string Json);

/// <summary>
/// The handlers read their query and body by hand (to name every field at fault), so the
/// document generator cannot see them: these declare them.
/// </summary>
internal static class OpenApiDocs
{
    public static TBuilder Query<TBuilder>(this TBuilder builder, string name, string description, bool required = false)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new QueryParameterDoc(name, description, required));

    public static TBuilder Paged<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.Query("limit", "Page size, 1 to 1000 (default 100)").Query("offset", "Items to skip (default 0)");

    public static TBuilder TimeRange<TBuilder>(this TBuilder builder, string defaultSpan) where TBuilder : IEndpointConventionBuilder =>
        builder.Query("from", $"Start, inclusive: ISO-8601 with a zone, e.g. 2026-01-31T10:15:00Z (default: {defaultSpan} before to)")
            .Query("to", "End, exclusive: ISO-8601 with a zone (default: now)");

    /// <summary>A route about one meter, region or grid node that the caller must operate: 404 when there is none, 403 when they do not operate it.</summary>
    public static TBuilder OperatedOnly<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status403Forbidden);

    public static TBuilder Body<TBuilder>(this TBuilder builder, string exampleJson) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new JsonBodyExample(exampleJson));
}
