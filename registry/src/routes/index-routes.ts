// The signed index (whole or per namespace) and the registry's public key.
import type { Context } from 'hono';
import type { AppDeps } from '../app-deps.js';
import { httpError } from '../http-errors.js';
import type { IndexSigner } from '../index-doc/index-signer.js';
import type { AppEnv } from '../middleware/app-env.js';
import { defineRoute, type RouteSpec } from '../openapi/route-table.js';
import { etagMatches } from './http-range.js';
import { json, namespaceParam } from './schemas.js';

const bundleResponse = {
  description: 'A Sigstore bundle whose DSSE payload is the index document',
  content: json({ type: 'object', properties: {} }),
};

/** Short caching: the index changes with every publish and must be fresh before it expires. */
export const INDEX_CACHE_CONTROL = 'public, max-age=30, must-revalidate';

export function indexRoutes(deps: AppDeps, signer: IndexSigner, payloadType: string): RouteSpec[] {
  const respond = async (c: Context<AppEnv>, namespace?: string) => {
    const index = await signer.get(namespace);
    const headers = { etag: index.etag, 'cache-control': INDEX_CACHE_CONTROL };
    if (etagMatches(c.req.header('if-none-match'), index.etag))
      return new Response(null, { status: 304, headers });
    deps.metrics.bytesServed.inc({ kind: 'index' }, Buffer.byteLength(index.body));
    return new Response(index.body, {
      headers: {
        ...headers,
        'content-type': 'application/json',
        'bpfleet-index-serial': String(index.serial),
        'bpfleet-index-expires': index.expires.toISOString(),
      },
    });
  };

  return [
    defineRoute({
      method: 'get',
      path: '/v1/index',
      operationId: 'getIndex',
      summary: 'The signed index of the whole registry',
      tag: 'index',
      access: 'public',
      responses: { 200: bundleResponse, 304: { description: 'Not modified' } },
      handler: (c) => respond(c),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/index/:ns',
      operationId: 'getNamespaceIndex',
      summary: 'The signed index of one namespace',
      tag: 'index',
      access: 'public',
      params: { ns: namespaceParam },
      responses: { 200: bundleResponse, 304: { description: 'Not modified' } },
      handler: async (c) => {
        const ns = c.req.param('ns')!;
        if (!(await deps.catalog.getNamespace(ns)))
          throw httpError('NAMESPACE_NOT_FOUND', `namespace ${ns}: not found`);
        return respond(c, ns);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/keys/registry',
      operationId: 'getRegistryKey',
      summary: 'The public key that signs the index, and the index payload type',
      tag: 'index',
      access: 'public',
      responses: {
        200: {
          description: 'Registry key',
          content: json({
            type: 'object',
            required: ['keyId', 'publicKeyPem', 'payloadType'],
            properties: {
              keyId: { type: 'string' },
              publicKeyPem: { type: 'string' },
              payloadType: { type: 'string' },
            },
          }),
        },
      },
      handler: (c) => c.json({ keyId: deps.keys.keyId, publicKeyPem: deps.keys.publicKeyPem, payloadType }),
    }),
  ];
}
