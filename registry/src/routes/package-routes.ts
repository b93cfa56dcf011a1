// Read API: list and search packages, package metadata, versions, manifest, bundle, downloads by digest.

import { sha256Digest } from '@bpfleet/sdk/digest';
import type { Context } from 'hono';
import type { AppDeps } from '../app-deps.js';
import { httpError } from '../http-errors.js';
import type { AppEnv } from '../middleware/app-env.js';
import { defineRoute, type RouteSpec } from '../openapi/route-table.js';
import type { BlobResponder } from './blob-responder.js';
import { IMMUTABLE } from './blob-responder.js';
import { etagMatches } from './http-range.js';
import {
  channelsSchema,
  digestParam,
  json,
  nameParam,
  namespaceParam,
  packageProperties,
  packageSchema,
  versionParam,
  versionSchema,
} from './schemas.js';
import { packageView, versionView } from './views.js';

const pkgParams = { ns: namespaceParam, name: nameParam };
const versionParams = { ...pkgParams, version: versionParam };
const download = {
  description: 'The package archive',
  content: { 'application/gzip': { schema: { type: 'string', format: 'binary' } as const } },
  headers: {
    ETag: { description: 'Strong: the quoted digest', schema: { type: 'string' } as const },
    'Cache-Control': { description: IMMUTABLE, schema: { type: 'string' } as const },
  },
};

export function packageRoutes(deps: AppDeps, serveBlob: BlobResponder): RouteSpec[] {
  const { catalog, metrics } = deps;

  const findVersion = async (c: Context<AppEnv>) => {
    const { ns, name, version } = c.req.param() as { ns: string; name: string; version: string };
    const v = await catalog.getVersion(ns, name, version);
    if (!v) throw httpError('VERSION_NOT_FOUND', `${ns}/${name}@${version}: not found`);
    return v;
  };

  /** An immutable JSON document of a version (manifest or bundle), with its digest as ETag. */
  const immutableJson = (c: Context<AppEnv>, body: string, digest: string, kind: string) => {
    const etag = `"${digest}"`;
    const headers = { etag, 'cache-control': IMMUTABLE };
    if (etagMatches(c.req.header('if-none-match'), etag)) return new Response(null, { status: 304, headers });
    metrics.bytesServed.inc({ kind }, Buffer.byteLength(body));
    return new Response(body, { headers: { ...headers, 'content-type': 'application/json' } });
  };

  return [
    defineRoute({
      method: 'get',
      path: '/v1/packages',
      operationId: 'listPackages',
      summary: 'List or search packages',
      tag: 'packages',
      access: 'public',
      query: {
        q: { type: 'string', maxLength: 200, description: 'Text to find in name or description' },
        namespace: namespaceParam,
        limit: { type: 'integer', minimum: 1, maximum: 500 },
        offset: { type: 'integer', minimum: 0 },
      },
      responses: {
        200: {
          description: 'Packages',
          content: json({
            type: 'object',
            properties: { packages: { type: 'array', items: packageSchema } },
          }),
        },
      },
      handler: async (c) => {
        const packages = await catalog.listPackages({
          text: c.req.query('q') || undefined,
          namespace: c.req.query('namespace') || undefined,
          limit: Number(c.req.query('limit') ?? 100),
          offset: Number(c.req.query('offset') ?? 0),
        });
        return c.json({ packages: packages.map(packageView) });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/packages/:ns/:name',
      operationId: 'getPackage',
      summary: 'Package metadata with its versions and channels',
      tag: 'packages',
      access: 'public',
      params: pkgParams,
      responses: {
        200: {
          description: 'Package',
          content: json({
            type: 'object',
            properties: {
              ...packageProperties,
              channels: channelsSchema,
              versionList: { type: 'array', items: versionSchema },
            },
          }),
        },
      },
      handler: async (c) => {
        const { ns, name } = c.req.param() as { ns: string; name: string };
        const pkg = await catalog.getPackage(ns, name);
        if (!pkg) throw httpError('PACKAGE_NOT_FOUND', `${ns}/${name}: not found`);
        const channels = Object.fromEntries(
          (await catalog.listChannels(ns, name)).map((ch) => [ch.channel, ch.version]),
        );
        const versionList = (await catalog.listVersions(ns, name)).map(versionView);
        return c.json({ ...packageView(pkg), channels, versionList });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/packages/:ns/:name/versions',
      operationId: 'listVersions',
      summary: 'Versions of a package, newest first (yanked ones included and marked)',
      tag: 'packages',
      access: 'public',
      params: pkgParams,
      responses: { 200: { description: 'Versions', content: json({ type: 'array', items: versionSchema }) } },
      handler: async (c) => {
        const { ns, name } = c.req.param() as { ns: string; name: string };
        const versions = await catalog.listVersions(ns, name);
        if (versions.length === 0) throw httpError('PACKAGE_NOT_FOUND', `${ns}/${name}: not found`);
        return c.json(versions.map(versionView));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/packages/:ns/:name/versions/:version',
      operationId: 'getVersion',
      summary: 'Metadata of one version',
      tag: 'packages',
      access: 'public',
      params: versionParams,
      responses: { 200: { description: 'Version', content: json(versionSchema) } },
      handler: async (c) => c.json(versionView(await findVersion(c))),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/packages/:ns/:name/versions/:version/manifest',
      operationId: 'getManifest',
      summary: 'The manifest bytes exactly as in the archive (ETag: the manifest digest)',
      tag: 'packages',
      access: 'public',
      params: versionParams,
      responses: { 200: { description: 'Manifest', content: json({ type: 'object', properties: {} }) } },
      handler: async (c) => {
        const v = await findVersion(c);
        return immutableJson(c, v.manifest, v.manifestDigest, 'manifest');
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/packages/:ns/:name/versions/:version/bundle',
      operationId: 'getBundle',
      summary: 'The Sigstore bundle the publisher signed the package with',
      tag: 'packages',
      access: 'public',
      params: versionParams,
      responses: { 200: { description: 'Bundle', content: json({ type: 'object', properties: {} }) } },
      handler: async (c) => {
        const v = await findVersion(c);
        return immutableJson(c, v.bundle, sha256Digest(v.bundle), 'bundle');
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/packages/:ns/:name/versions/:version/package',
      operationId: 'downloadVersion',
      summary: 'Download the archive of a version (same body and headers as /v1/blobs/{digest})',
      tag: 'packages',
      access: 'public',
      params: versionParams,
      headers: { Range: { description: 'One byte range' }, 'If-None-Match': { description: 'ETag' } },
      responses: {
        200: download,
        206: { description: 'Partial content' },
        304: { description: 'Not modified' },
      },
      handler: async (c) => serveBlob(c, (await findVersion(c)).digest),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/blobs/:digest',
      operationId: 'downloadBlob',
      summary: 'Download a published package archive by digest (HEAD, Range, If-None-Match, If-Range)',
      tag: 'packages',
      access: 'public',
      params: { digest: digestParam },
      headers: {
        Range: { description: 'One byte range (bytes=a-b, a-, -n)' },
        'If-None-Match': { description: 'ETag' },
        'If-Range': { description: 'ETag' },
      },
      responses: {
        200: download,
        206: { description: 'Partial content' },
        304: { description: 'Not modified' },
        416: { description: 'Range not satisfiable' },
      },
      handler: (c) => serveBlob(c, c.req.param('digest')!),
    }),
  ];
}
