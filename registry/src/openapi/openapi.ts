// Prints the route table as an OpenAPI 3.1 document, so the served description cannot drift from the routes.
import type { JsonSchema } from './json-schema.js';
import type { RouteSpec } from './route-table.js';

const errorSchema: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Stable SCREAMING_SNAKE code' },
        message: { type: 'string', description: 'What went wrong, context first' },
      },
    },
  },
};

const errorDescriptions: Record<number, string> = {
  400: 'Invalid request (the message says exactly what)',
  401: 'Missing, unknown or revoked token',
  403: 'The token may not do this',
  404: 'Not found',
  409: 'Conflict with the current state',
  413: 'Body too large',
};

function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

export function toOpenApi(
  routes: RouteSpec[],
  info: { title: string; version: string },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters: unknown[] = [];
    for (const [name, schema] of Object.entries(route.params ?? {})) {
      parameters.push({ name, in: 'path', required: true, schema });
    }
    for (const [name, schema] of Object.entries(route.query ?? {})) {
      parameters.push({ name, in: 'query', required: false, schema });
    }
    for (const [name, h] of Object.entries(route.headers ?? {})) {
      parameters.push({
        name,
        in: 'header',
        required: h.required ?? false,
        description: h.description,
        schema: { type: 'string' },
      });
    }
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(route.responses)) responses[status] = r;
    const errorStatuses = new Set<number>([400]);
    if (route.params && Object.keys(route.params).length > 0) errorStatuses.add(404);
    if (route.access !== 'public') {
      errorStatuses.add(401);
      errorStatuses.add(403);
    }
    for (const status of Object.keys(route.responses).map(Number))
      if (status >= 400) errorStatuses.delete(status);
    for (const status of errorStatuses) {
      responses[String(status)] = {
        description: errorDescriptions[status] ?? 'Error',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      parameters,
      responses,
    };
    // Public operations say so (`security: []`) rather than leave a reader to guess.
    operation.security = route.access === 'public' ? [] : [{ bearer: [] }];
    if (route.access !== 'public') operation['x-bpfleet-access'] = route.access;
    if (route.body) {
      operation.requestBody = {
        required: route.body.required ?? true,
        description: route.body.description,
        content: { [route.body.contentType]: { schema: route.body.schema } },
      };
    }
    const key = toOpenApiPath(route.path);
    paths[key] ??= {};
    paths[key][route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { ...info, license: { name: 'Apache-2.0', identifier: 'Apache-2.0' } },
    // Relative: the edge serving this document, whatever name or port it is reached by.
    servers: [{ url: '/', description: 'this edge' }],
    paths,
    components: {
      schemas: { Error: errorSchema },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Admin or publish token' } },
    },
  };
}
