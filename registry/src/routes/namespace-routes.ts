// Namespaces, their publisher keys and their publish tokens (writes need the admin token).
import { keyIdOf } from '@bpfleet/sdk/trust';
import type { Context } from 'hono';
import type { AppDeps } from '../app-deps.js';
import { httpError } from '../http-errors.js';
import type { AppEnv } from '../middleware/app-env.js';
import type { JsonSchema } from '../openapi/json-schema.js';
import { defineRoute, type RouteSpec } from '../openapi/route-table.js';
import { generateToken, generateTokenId, hashToken, PUBLISH_TOKEN_PREFIX } from '../tokens.js';
import { json, namespaceParam } from './schemas.js';

const keySchema: JsonSchema = {
  type: 'object',
  required: ['keyId', 'publicKeyPem', 'addedAt'],
  properties: {
    keyId: { type: 'string' },
    publicKeyPem: { type: 'string' },
    addedAt: { type: 'string', format: 'date-time' },
  },
};

const tokenProperties: Record<string, JsonSchema> = {
  id: { type: 'string' },
  namespace: { type: 'string' },
  label: { type: 'string' },
  createdAt: { type: 'string', format: 'date-time' },
  revokedAt: { anyOf: [{ type: 'string' }, { type: 'null' }] },
};
const tokenSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'namespace', 'label', 'createdAt', 'revokedAt'],
  properties: tokenProperties,
};

function checkPublicKey(pem: string): string {
  try {
    return keyIdOf(pem, 'body.publicKeyPem');
  } catch (err) {
    throw httpError('INVALID_BODY', (err as Error).message, err);
  }
}

export function namespaceRoutes(deps: AppDeps): RouteSpec[] {
  const { catalog, clock } = deps;
  const requireNamespace = async (c: Context<AppEnv>) => {
    const ns = c.req.param('ns')!;
    if (!(await catalog.getNamespace(ns)))
      throw httpError('NAMESPACE_NOT_FOUND', `namespace ${ns}: not found`);
    return ns;
  };

  return [
    defineRoute({
      method: 'post',
      path: '/v1/namespaces',
      operationId: 'createNamespace',
      summary: 'Create a namespace',
      tag: 'namespaces',
      access: 'admin',
      body: {
        contentType: 'application/json',
        schema: {
          type: 'object',
          required: ['name'],
          properties: { name: namespaceParam },
          additionalProperties: false,
        },
      },
      responses: {
        201: {
          description: 'Created',
          content: json({ type: 'object', properties: { name: { type: 'string' } } }),
        },
        409: { description: 'The namespace exists' },
      },
      handler: async (c) => {
        const { name } = c.get('body') as { name: string };
        const ns = await catalog.createNamespace(name, clock.now());
        deps.logger.info('namespace created', { namespace: name });
        return c.json(ns, 201);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/namespaces',
      operationId: 'listNamespaces',
      summary: 'List namespaces',
      tag: 'namespaces',
      access: 'public',
      responses: {
        200: {
          description: 'Namespaces',
          content: json({
            type: 'array',
            items: { type: 'object', properties: { name: { type: 'string' } } },
          }),
        },
      },
      handler: async (c) => c.json(await catalog.listNamespaces()),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/namespaces/:ns/keys',
      operationId: 'addPublisherKey',
      summary: 'Register a publisher public key (ECDSA P-256, PEM) for a namespace',
      tag: 'namespaces',
      access: 'admin',
      params: { ns: namespaceParam },
      body: {
        contentType: 'application/json',
        schema: {
          type: 'object',
          required: ['publicKeyPem'],
          properties: {
            publicKeyPem: { type: 'string', maxLength: 4096 },
            keyId: { type: 'string', maxLength: 128 },
          },
          additionalProperties: false,
        },
      },
      responses: {
        201: { description: 'Registered', content: json(keySchema) },
        409: { description: 'Already registered' },
      },
      handler: async (c) => {
        const ns = await requireNamespace(c);
        const body = c.get('body') as { publicKeyPem: string; keyId?: string };
        const keyId = checkPublicKey(body.publicKeyPem);
        if (body.keyId !== undefined && body.keyId !== keyId) {
          throw httpError('INVALID_BODY', `body.keyId: ${body.keyId} is not the id of this key (${keyId})`);
        }
        const key = {
          namespace: ns,
          keyId,
          publicKeyPem: body.publicKeyPem,
          addedAt: clock.now().toISOString(),
        };
        await catalog.addPublisherKey(key);
        deps.logger.info('publisher key added', { namespace: ns, keyId: key.keyId });
        return c.json({ keyId: key.keyId, publicKeyPem: key.publicKeyPem, addedAt: key.addedAt }, 201);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/namespaces/:ns/keys',
      operationId: 'listPublisherKeys',
      summary: 'The publisher keys trusted for a namespace',
      tag: 'namespaces',
      access: 'public',
      params: { ns: namespaceParam },
      responses: { 200: { description: 'Keys', content: json({ type: 'array', items: keySchema }) } },
      handler: async (c) => {
        const ns = await requireNamespace(c);
        const keys = await catalog.listPublisherKeys(ns);
        return c.json(
          keys.map((k) => ({ keyId: k.keyId, publicKeyPem: k.publicKeyPem, addedAt: k.addedAt })),
        );
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/namespaces/:ns/keys/:keyId',
      operationId: 'removePublisherKey',
      summary: 'Stop trusting a publisher key for new publishes',
      tag: 'namespaces',
      access: 'admin',
      params: { ns: namespaceParam, keyId: { type: 'string', maxLength: 128 } },
      responses: { 204: { description: 'Removed' } },
      handler: async (c) => {
        const ns = await requireNamespace(c);
        const keyId = c.req.param('keyId')!;
        if (!(await catalog.removePublisherKey(ns, keyId))) {
          throw httpError('KEY_NOT_FOUND', `namespace ${ns}: no key ${keyId}`);
        }
        return c.body(null, 204);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/namespaces/:ns/tokens',
      operationId: 'createPublishToken',
      summary: 'Issue a publish token scoped to a namespace (the secret is shown once)',
      tag: 'namespaces',
      access: 'admin',
      params: { ns: namespaceParam },
      body: {
        contentType: 'application/json',
        required: false,
        schema: {
          type: 'object',
          properties: { label: { type: 'string', maxLength: 200 } },
          additionalProperties: false,
        },
      },
      responses: {
        201: {
          description: 'Issued',
          content: json({
            type: 'object',
            required: ['id', 'token'],
            properties: { ...tokenProperties, token: { type: 'string' } },
          }),
        },
      },
      handler: async (c) => {
        const ns = await requireNamespace(c);
        const { label = '' } = c.get('body') as { label?: string };
        const token = generateToken(PUBLISH_TOKEN_PREFIX);
        const record = {
          id: generateTokenId(),
          namespace: ns,
          label,
          hash: hashToken(token),
          createdAt: clock.now().toISOString(),
          revokedAt: null,
        };
        await catalog.createToken(record);
        deps.logger.info('publish token issued', { namespace: ns, tokenId: record.id });
        const { hash: _hash, ...shown } = record;
        return c.json({ ...shown, token }, 201);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/namespaces/:ns/tokens',
      operationId: 'listPublishTokens',
      summary: 'List the publish tokens of a namespace (never their secrets)',
      tag: 'namespaces',
      access: 'admin',
      params: { ns: namespaceParam },
      responses: { 200: { description: 'Tokens', content: json({ type: 'array', items: tokenSchema }) } },
      handler: async (c) => {
        const ns = await requireNamespace(c);
        return c.json((await catalog.listTokens(ns)).map(({ hash: _hash, ...t }) => t));
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/namespaces/:ns/tokens/:id',
      operationId: 'revokePublishToken',
      summary: 'Revoke a publish token',
      tag: 'namespaces',
      access: 'admin',
      params: { ns: namespaceParam, id: { type: 'string', maxLength: 64 } },
      responses: { 204: { description: 'Revoked' } },
      handler: async (c) => {
        const ns = await requireNamespace(c);
        const id = c.req.param('id')!;
        const owned = (await catalog.listTokens(ns)).some((t) => t.id === id && t.revokedAt === null);
        if (!owned || !(await catalog.revokeToken(id, clock.now()))) {
          throw httpError('TOKEN_NOT_FOUND', `namespace ${ns}: no active token ${id}`);
        }
        deps.logger.info('publish token revoked', { namespace: ns, tokenId: id });
        return c.body(null, 204);
      },
    }),
  ];
}
