// Channel and yank routes: changes are publisher-signed statements; the admin alone may only yank (an emergency).
import type { AppDeps } from '../app-deps.js';
import { httpError } from '../http-errors.js';
import type { JsonSchema } from '../openapi/json-schema.js';
import { defineRoute, type RouteSpec } from '../openapi/route-table.js';
import { applyStatement } from './apply-statement.js';
import {
  channelParam,
  channelsSchema,
  json,
  nameParam,
  namespaceParam,
  versionParam,
  versionSchema,
} from './schemas.js';
import { versionView } from './views.js';

const pkgParams = { ns: namespaceParam, name: nameParam };
// A Sigstore bundle: its content is checked by the statement verifier, not by the route's schema.
const bundleSchema: JsonSchema = {
  type: 'object',
  description: 'Sigstore bundle of a bpfleet channel statement',
  properties: {},
  additionalProperties: true,
};
const statementBody = {
  contentType: 'application/json',
  schema: {
    type: 'object',
    required: ['statement'],
    properties: { statement: bundleSchema },
    additionalProperties: false,
  } satisfies JsonSchema,
};

export function channelRoutes(deps: AppDeps): RouteSpec[] {
  const { catalog, clock, logger } = deps;
  return [
    defineRoute({
      method: 'get',
      path: '/v1/packages/:ns/:name/channels',
      operationId: 'listChannels',
      summary: 'Channel name to version',
      tag: 'channels',
      access: 'public',
      params: pkgParams,
      responses: { 200: { description: 'Channels', content: json(channelsSchema) } },
      handler: async (c) => {
        const { ns, name } = c.req.param() as { ns: string; name: string };
        if (!(await catalog.getPackage(ns, name)))
          throw httpError('PACKAGE_NOT_FOUND', `${ns}/${name}: not found`);
        const channels = await catalog.listChannels(ns, name);
        return c.json(Object.fromEntries(channels.map((ch) => [ch.channel, ch.version])));
      },
    }),
    defineRoute({
      method: 'put',
      path: '/v1/packages/:ns/:name/channels/:channel',
      operationId: 'setChannel',
      summary: 'Point a channel at a version: a move statement signed by a publisher key of the namespace',
      tag: 'channels',
      access: 'namespace',
      params: { ...pkgParams, channel: channelParam },
      body: statementBody,
      responses: {
        200: { description: 'Set', content: json(channelsSchema) },
        409: {
          description: 'The version is yanked, below the channel without a rollback, or the serial is stale',
        },
      },
      handler: async (c) => {
        const { ns, name, channel } = c.req.param() as { ns: string; name: string; channel: string };
        const { statement } = c.get('body') as { statement: unknown };
        const signed = await applyStatement(
          deps,
          { namespace: ns, name, action: 'move', channel },
          statement,
        );
        logger.info('channel set', {
          package: `${ns}/${name}`,
          channel,
          version: signed.version,
          serial: signed.serial,
          rollback: signed.rollback?.reason ?? null,
        });
        const channels = await catalog.listChannels(ns, name);
        return c.json(Object.fromEntries(channels.map((ch) => [ch.channel, ch.version])));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/packages/:ns/:name/statements',
      operationId: 'listStatements',
      summary: 'The latest publisher statement per stream (channel:<name>, version:<v>), with its serial',
      tag: 'channels',
      access: 'public',
      params: pkgParams,
      responses: {
        200: {
          description: 'Statements',
          content: json({
            type: 'array',
            items: { type: 'object', properties: {}, additionalProperties: true },
          }),
        },
      },
      handler: async (c) => {
        const { ns, name } = c.req.param() as { ns: string; name: string };
        if (!(await catalog.getPackage(ns, name)))
          throw httpError('PACKAGE_NOT_FOUND', `${ns}/${name}: not found`);
        const stored = await catalog.listStatements(ns, name);
        return c.json(
          stored.map((st) => ({
            stream: st.stream,
            serial: st.serial,
            statement: JSON.parse(st.body) as unknown,
          })),
        );
      },
    }),
    defineRoute({
      method: 'put',
      path: '/v1/packages/:ns/:name/versions/:version/yank',
      operationId: 'yankVersion',
      summary:
        'Mark a version yanked (never deleted): a yank statement signed by a publisher, or the admin in an emergency',
      tag: 'channels',
      access: 'namespace',
      params: { ...pkgParams, version: versionParam },
      body: {
        contentType: 'application/json',
        required: false,
        schema: {
          type: 'object',
          properties: { statement: bundleSchema, reason: { type: 'string', maxLength: 500 } },
          additionalProperties: false,
        },
      },
      responses: {
        200: { description: 'Yanked', content: json(versionSchema) },
        403: { description: 'Neither a signed statement nor the admin' },
      },
      handler: async (c) => {
        const { ns, name, version } = c.req.param() as { ns: string; name: string; version: string };
        const { statement, reason } = c.get('body') as { statement?: unknown; reason?: string };
        if (statement !== undefined) {
          const signed = await applyStatement(
            deps,
            { namespace: ns, name, action: 'yank', version },
            statement,
          );
          logger.info('version yanked', { package: `${ns}/${name}`, version, reason: signed.reason ?? null });
        } else {
          // Stopping distribution is safe on the admin's word; a publish token alone cannot even do that.
          if (c.get('principal').kind !== 'admin')
            throw httpError(
              'YANK_UNSIGNED',
              `yank ${ns}/${name}@${version}: needs a statement signed by a publisher key`,
            );
          const why = reason ?? 'emergency yank by the admin';
          if (!(await catalog.setYanked(ns, name, version, why, clock.now())))
            throw httpError('VERSION_NOT_FOUND', `yank ${ns}/${name}@${version}: not found`);
          logger.warn('version yanked by the admin', { package: `${ns}/${name}`, version, reason: why });
        }
        return c.json(versionView((await catalog.getVersion(ns, name, version))!));
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/packages/:ns/:name/versions/:version/yank',
      operationId: 'unyankVersion',
      summary:
        'Clear the yanked mark of a version: an unyank statement signed by a publisher (never the admin alone)',
      tag: 'channels',
      access: 'namespace',
      params: { ...pkgParams, version: versionParam },
      body: statementBody,
      responses: { 200: { description: 'Restored', content: json(versionSchema) } },
      handler: async (c) => {
        const { ns, name, version } = c.req.param() as { ns: string; name: string; version: string };
        const { statement } = c.get('body') as { statement: unknown };
        const signed = await applyStatement(
          deps,
          { namespace: ns, name, action: 'unyank', version },
          statement,
        );
        logger.info('version unyanked', { package: `${ns}/${name}`, version, serial: signed.serial });
        return c.json(versionView((await catalog.getVersion(ns, name, version))!));
      },
    }),
  ];
}
