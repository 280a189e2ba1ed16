using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace SmartGrid.Gateway.Http;

/// <summary>
/// The OpenAPI document of the REST API (<c>/openapi/v1.json</c>, browsable at <c>/scalar</c>):
/// only the /api/v1 routes, with the bearer scheme declared once and required by every route
/// that needs a token.
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
        options.AddOperationTransformer((operation, context, _) =>
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
            if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] });
                operation.Responses ??= new OpenApiResponses();
                operation.Responses.TryAdd("401", new OpenApiResponse { Description = "No valid access token" });
                operation.Responses.TryAdd("403", new OpenApiResponse { Description = "The caller's role may not use this route" });
            }
            return Task.CompletedTask;
        });
    }
}
