// The root of trust over HTTP: devices walk GET /v1/root/{N}.json; the admin publishes the next root with PUT.
import { httpError } from '../http-errors.js';
import { defineRoute, type RouteSpec } from '../openapi/route-table.js';
import { json } from '../routes/schemas.js';
import type { RootService } from './root-service.js';

const bundleResponse = {
  description: 'The root as published: a Sigstore bundle whose DSSE envelope carries several signatures',
  content: json({ type: 'object', properties: {} }),
};

// A version's bundle never changes once stored; a missing one (404) is not cached by this header.
const IMMUTABLE = 'public, max-age=31536000, immutable';

export function rootRoutes(roots: RootService): RouteSpec[] {
  const serve = (text: string, version: number, cacheControl: string) =>
    new Response(text, {
      headers: {
        'content-type': 'application/json',
        'cache-control': cacheControl,
        'bpfleet-root-version': String(version),
      },
    });
  return [
    defineRoute({
      method: 'get',
      path: '/v1/root/:file',
      operationId: 'getRootVersion',
      summary: 'One version of the root of trust (devices walk N+1, N+2, … until 404)',
      tag: 'root',
      access: 'public',
      params: {
        file: {
          type: 'string',
          pattern: '^[1-9][0-9]{0,8}\\.json$',
          description: 'The version, as `<N>.json`',
        },
      },
      responses: { 200: bundleResponse, 404: { description: 'No such version (yet)' } },
      handler: async (c) => {
        const version = Number.parseInt(c.req.param('file') ?? '', 10);
        const text = await roots.get(version);
        if (text === undefined) throw httpError('NOT_FOUND', `root v${version}: not published`);
        return serve(text, version, IMMUTABLE);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/root',
      operationId: 'getRoot',
      summary: 'The newest root of trust',
      tag: 'root',
      access: 'public',
      responses: { 200: bundleResponse, 404: { description: 'No root published yet' } },
      handler: async () => {
        const version = await roots.latestVersion();
        const text = version === undefined ? undefined : await roots.get(version);
        if (version === undefined || text === undefined)
          throw httpError('NOT_FOUND', 'root: none published yet');
        return serve(text, version, 'no-cache');
      },
    }),
    defineRoute({
      method: 'put',
      path: '/v1/root',
      operationId: 'publishRoot',
      summary: 'Publishes the next root (verified against the newest stored one) and announces it to devices',
      tag: 'root',
      access: 'admin',
      body: {
        contentType: 'application/json',
        schema: {
          type: 'object',
          required: ['mediaType', 'dsseEnvelope'],
          properties: { mediaType: { type: 'string' }, dsseEnvelope: { type: 'object', properties: {} } },
        },
        description: 'The root bundle, signed by a threshold of the current and of its own root keys',
      },
      responses: {
        200: {
          description: 'Stored and announced',
          content: json({
            type: 'object',
            required: ['version', 'expires'],
            properties: { version: { type: 'integer' }, expires: { type: 'string' } },
          }),
        },
      },
      handler: async (c) => {
        const published = await roots.publish(c.get('body'));
        return c.json({ version: published.version, expires: published.expires });
      },
    }),
  ];
}
