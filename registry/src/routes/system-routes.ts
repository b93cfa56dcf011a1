// Operations: health, Prometheus metrics, the OpenAPI document, orphan collection.
import type { AppDeps } from '../app-deps.js';
import { collectOrphans } from '../blobs/collect-orphans.js';
import { defineRoute, type RouteSpec } from '../openapi/route-table.js';
import { json } from './schemas.js';

/** Orphans younger than this are spared: they may belong to a publish between blob commit and row commit. */
export const ORPHAN_GRACE_MS = 10 * 60 * 1000;

export function systemRoutes(deps: AppDeps, openApi: () => Record<string, unknown>): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/healthz',
      operationId: 'health',
      summary: 'Liveness and storage readiness',
      tag: 'system',
      access: 'public',
      responses: {
        200: {
          description: 'Healthy',
          content: json({ type: 'object', properties: { status: { type: 'string' } } }),
        },
      },
      handler: async (c) => {
        await deps.catalog.changeCounter();
        return c.json({ status: 'ok' });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      tag: 'system',
      access: 'public',
      responses: {
        200: {
          description: 'Text exposition format',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
      },
      handler: async (c) =>
        c.body(await deps.metrics.registry.metrics(), 200, {
          'content-type': deps.metrics.registry.contentType,
        }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/openapi.json',
      operationId: 'openapi',
      summary: 'This API, described',
      tag: 'system',
      access: 'public',
      responses: {
        200: { description: 'OpenAPI 3.1 document', content: json({ type: 'object', properties: {} }) },
      },
      handler: (c) => c.json(openApi()),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/whoami',
      operationId: 'whoami',
      summary: 'Who the bearer token belongs to: the admin, or a publish token of one namespace',
      tag: 'system',
      access: 'token',
      responses: {
        200: {
          description: 'The token holder',
          content: json({
            type: 'object',
            required: ['role'],
            properties: {
              role: { type: 'string', enum: ['admin', 'publisher'] },
              namespace: { type: 'string' },
              tokenId: { type: 'string' },
            },
          }),
        },
      },
      handler: (c) => {
        const p = c.get('principal');
        return c.json(
          p.kind === 'admin'
            ? { role: 'admin' }
            : { role: 'publisher', namespace: p.namespace, tokenId: p.tokenId },
        );
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/admin/gc',
      operationId: 'collectOrphans',
      summary: 'Delete blobs no version refers to and staging leftovers (older than a grace period)',
      tag: 'system',
      access: 'admin',
      responses: {
        200: {
          description: 'What was removed',
          content: json({
            type: 'object',
            properties: { orphans: { type: 'integer' }, staging: { type: 'integer' } },
          }),
        },
      },
      handler: async (c) => {
        const cutoff = new Date(deps.clock.now().getTime() - ORPHAN_GRACE_MS);
        const result = await collectOrphans(deps.catalog, deps.blobs, cutoff);
        deps.logger.info('orphans collected', { ...result });
        return c.json(result);
      },
    }),
  ];
}
