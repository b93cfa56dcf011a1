// Routes as data: each spec carries its schemas and handler; the table mounts on Hono and prints OpenAPI.
import type { Context, Hono } from 'hono';
import { httpError } from '../http-errors.js';
import type { AppEnv } from '../middleware/app-env.js';
import { type JsonSchema, validate } from './json-schema.js';

export type HttpMethod = 'get' | 'put' | 'post' | 'delete';

/** Who may call a route: anyone, the admin, or a publisher of the `:ns` in the path (the admin too). */
/** `token`: any valid token, admin or publish (to say who it belongs to). */
export type Access = 'public' | 'admin' | 'namespace' | 'token';

export interface ResponseSpec {
  description: string;
  /** Content type to schema; JSON errors are documented automatically. */
  content?: Record<string, { schema: JsonSchema }>;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
}

export interface RouteSpec {
  method: HttpMethod;
  /** Hono syntax (`/v1/packages/:ns/:name`). */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  access: Access;
  params?: Record<string, JsonSchema & { type: 'string' }>;
  query?: Record<string, JsonSchema & { type: 'string' | 'integer' }>;
  headers?: Record<string, { description: string; required?: boolean }>;
  /** A JSON body is parsed and validated before the handler runs; other types are streamed by it. */
  body?: {
    contentType: string;
    schema: JsonSchema;
    description?: string;
    required?: boolean;
    /** Above MAX_JSON_BODY_BYTES, for the few bodies that carry data (a policy with map entries). */
    maxBytes?: number;
  };
  responses: Record<number, ResponseSpec>;
  handler: (c: Context<AppEnv>) => Response | Promise<Response>;
}

/** JSON bodies are small requests (a name, a key, a version): 64 KiB is plenty. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

export function defineRoute(spec: RouteSpec): RouteSpec {
  return spec;
}

async function readJsonBody(c: Context<AppEnv>, schema: JsonSchema, maxBytes: number): Promise<unknown> {
  const tooLarge = () => httpError('PAYLOAD_TOO_LARGE', `request body: more than ${maxBytes} bytes`);
  if (Number(c.req.header('content-length') ?? '0') > maxBytes) throw tooLarge();
  // Counted while reading: a chunked body has no length to check up front.
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of c.req.raw.body ?? []) {
    size += chunk.byteLength;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let value: unknown;
  try {
    value = text === '' ? {} : JSON.parse(text);
  } catch (err) {
    throw httpError('INVALID_BODY', `request body: not JSON: ${(err as Error).message}`);
  }
  const problem = validate(schema, value, 'body');
  if (problem) throw httpError('INVALID_BODY', problem);
  return value;
}

/**
 * Mounts every route: checks path parameters, then access (through `authorize`), then the JSON body,
 * in that order so an anonymous caller learns nothing from validation messages.
 */
export function mountRoutes(
  app: Hono<AppEnv>,
  routes: RouteSpec[],
  authorize: (c: Context<AppEnv>, access: Access) => Promise<void>,
): void {
  for (const route of routes) {
    // Computed once per route: this wrapper runs on every download.
    const params = Object.entries(route.params ?? {});
    const query = Object.entries(route.query ?? {});
    app.on(route.method.toUpperCase(), route.path, async (c) => {
      for (const [name, schema] of params) {
        const problem = validate(schema, c.req.param(name), name);
        if (problem) throw httpError('INVALID_PARAMETER', problem);
      }
      for (const [name, schema] of query) {
        const raw = c.req.query(name);
        if (raw === undefined) continue;
        const value = schema.type === 'integer' ? Number(raw) : raw;
        const problem = validate(schema, value, name);
        if (problem) throw httpError('INVALID_PARAMETER', problem);
      }
      if (route.access !== 'public') await authorize(c, route.access);
      if (route.body?.contentType === 'application/json') {
        c.set('body', await readJsonBody(c, route.body.schema, route.body.maxBytes ?? MAX_JSON_BODY_BYTES));
      }
      return route.handler(c);
    });
  }
}
