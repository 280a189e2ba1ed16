using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace SmartGrid.Gateway.Http;

/// <summary>
/// The OpenAPI document of the REST API (<c>/openapi/v1.json</c>, browsable at <c>/scalar</c>):
/// only the /api/v1 routes, with the bearer scheme declared once and required by every route
/// that needs a token. Each route lists what it can answer: its own success and problems (declared
/// where it is mapped), 400 when it reads input, 401/403 when it needs a token, 429 (every route is
/// rate-limited) and 503 (PostgreSQL down); schemas use the wire's snake_case names.
/// </summary>
internal static class GatewayOpenApi
{
    public const string DocumentName = "v1";
    public const string Route = "/openapi/{documentName}.json";
    public const string UiRoute = "/scalar";
    public const string BearerScheme = "Bearer";

    public static void Configure(OpenApiOptions options)
    {
        options.ShouldInclude = d => d.RelativePath?.StartsWith("api/v1/", StringComparison.Ordinal) == true;
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "SmartGrid API",
                Version = DocumentName,
                Description = "Accounts, telemetry, tariffs, billing, alerts and notification settings of the SmartGrid platform. " +
                              "Log in at POST /api/v1/auth/login and send the access token as 'Authorization: Bearer <token>'. " +
                              "Errors are RFC 7807 problem+json; validation errors name the field in 'errors'.",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "Access token from POST /api/v1/auth/login or /api/v1/auth/refresh.",
            };
            return Task.CompletedTask;
        });
        options.AddSchemaTransformer((schema, context, _) =>
        {
            // The generator names properties with the HTTP defaults (camelCase); the gateway writes GatewayJson's snake_case.
            if (schema.Properties is { Count: > 0 } properties && context.JsonTypeInfo.Type.Namespace?.StartsWith("SmartGrid", StringComparison.Ordinal) == true)
            {
                foreach (var (name, property) in properties.ToArray())
                {
                    properties.Remove(name);
                    properties[JsonNamingPolicy.SnakeCaseLower.ConvertName(name)] = property;
                }
                if (schema.Required is { Count: > 0 } required)
                    schema.Required = required.Select(JsonNamingPolicy.SnakeCaseLower.ConvertName).ToHashSet();
            }
            return Task.CompletedTask;
        });
        options.AddOperationTransformer(async (operation, context, ct) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            foreach (var query in metadata.OfType<QueryParameterDoc>())
            {
                operation.Parameters ??= [];
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = query.Name,
                    In = ParameterLocation.Query,
                    Description = query.Description,
                    Required = query.Required,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                });
            }
            if (metadata.OfType<JsonBodyExample>().FirstOrDefault() is { } body)
            {
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/json"] = new() { Example = System.Text.Json.Nodes.JsonNode.Parse(body.Json) },
                    },
                };
            }
            operation.Responses ??= new OpenApiResponses();
            if (!operation.Responses.Keys.Any(status => status.StartsWith('2')))
                operation.Responses["200"] = new OpenApiResponse { Description = "OK" };
            var problem = await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), null, ct);
            void Problem(string status, string description, IOpenApiSchema schema) => operation.Responses.TryAdd(status, new OpenApiResponse
            {
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType> { ["application/problem+json"] = new() { Schema = schema } },
            });
            if (operation.Parameters is { Count: > 0 } || operation.RequestBody is not null)
                Problem("400", "Invalid input: errors names each field at fault", await context.GetOrCreateSchemaAsync(typeof(HttpValidationProblemDetails), null, ct));
            if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] });
                Problem("401", "No valid access token (missing, expired, or its session ended)", problem);
                Problem("403", "The caller's role may not use this route", problem);
            }
            Problem("429", "Rate limit reached; Retry-After says when to try again", problem);
            Problem("503", "PostgreSQL is unavailable (reads may be answered stale instead); Retry-After", problem);
        });
    }
}
