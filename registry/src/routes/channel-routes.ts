// Channels (stable, canary, any name) pointing at versions, and yanking: writes need a token for the namespace.
import type { AppDeps } from '../app-deps.js';
import { httpError } from '../http-errors.js';
import { defineRoute, type RouteSpec } from '../openapi/route-table.js';
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
      summary: 'Point a channel at a version (not a yanked one)',
      tag: 'channels',
      access: 'namespace',
      params: { ...pkgParams, channel: channelParam },
      body: {
        contentType: 'application/json',
        schema: {
          type: 'object',
          required: ['version'],
          properties: { version: versionParam },
          additionalProperties: false,
        },
      },
      responses: {
        200: { description: 'Set', content: json(channelsSchema) },
        409: { description: 'The version is yanked' },
      },
      handler: async (c) => {
        const { ns, name, channel } = c.req.param() as { ns: string; name: string; channel: string };
        const { version } = c.get('body') as { version: string };
        const v = await catalog.getVersion(ns, name, version);
        if (!v)
          throw httpError(
            'VERSION_NOT_FOUND',
            `channel ${ns}/${name}#${channel}: version ${version} not found`,
          );
        if (v.yanked)
          throw httpError('VERSION_YANKED', `channel ${ns}/${name}#${channel}: version ${version} is yanked`);
        await catalog.setChannel(ns, name, channel, version, clock.now());
        logger.info('channel set', { package: `${ns}/${name}`, channel, version });
        const channels = await catalog.listChannels(ns, name);
        return c.json(Object.fromEntries(channels.map((ch) => [ch.channel, ch.version])));
      },
    }),
    defineRoute({
      method: 'put',
      path: '/v1/packages/:ns/:name/versions/:version/yank',
      operationId: 'yankVersion',
      summary: 'Mark a version yanked (it stays downloadable by digest; it is never deleted)',
      tag: 'channels',
      access: 'namespace',
      params: { ...pkgParams, version: versionParam },
      body: {
        contentType: 'application/json',
        required: false,
        schema: {
          type: 'object',
          properties: { reason: { type: 'string', maxLength: 500 } },
          additionalProperties: false,
        },
      },
      responses: { 200: { description: 'Yanked', content: json(versionSchema) } },
      handler: async (c) => {
        const { ns, name, version } = c.req.param() as { ns: string; name: string; version: string };
        const { reason = 'yanked' } = c.get('body') as { reason?: string };
        if (!(await catalog.setYanked(ns, name, version, reason, clock.now()))) {
          throw httpError('VERSION_NOT_FOUND', `yank ${ns}/${name}@${version}: not found`);
        }
        logger.info('version yanked', { package: `${ns}/${name}`, version, reason });
        return c.json(versionView((await catalog.getVersion(ns, name, version))!));
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/packages/:ns/:name/versions/:version/yank',
      operationId: 'unyankVersion',
      summary: 'Clear the yanked mark of a version',
      tag: 'channels',
      access: 'namespace',
      params: { ...pkgParams, version: versionParam },
      responses: { 200: { description: 'Restored', content: json(versionSchema) } },
      handler: async (c) => {
        const { ns, name, version } = c.req.param() as { ns: string; name: string; version: string };
        if (!(await catalog.setYanked(ns, name, version, null, clock.now()))) {
          throw httpError('VERSION_NOT_FOUND', `unyank ${ns}/${name}@${version}: not found`);
        }
        logger.info('version unyanked', { package: `${ns}/${name}`, version });
        return c.json(versionView((await catalog.getVersion(ns, name, version))!));
      },
    }),
  ];
}
