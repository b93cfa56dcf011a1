// The two other requests every device makes when a policy changes — the signed index and a version's bundle —
// answered without the framework when they succeed (Request/Response objects cost more than the answer). Anything
// else (a bad name, an unknown version, a query string, an error) goes to Hono, which answers it as documented.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sha256Digest } from '@bpfleet/sdk/digest';
import type { Catalog } from '../catalog/catalog.js';
import type { IndexSigner } from '../index-doc/index-signer.js';
import type { RegistryMetrics } from '../middleware/metrics.js';
import { validate } from '../openapi/json-schema.js';
import { IMMUTABLE } from './blob-responder.js';
import { etagMatches } from './http-range.js';
import { INDEX_CACHE_CONTROL } from './index-routes.js';
import { nameParam, namespaceParam, versionParam } from './schemas.js';

/** Undefined: not a request this path serves. Else resolves to true once answered, false to hand it to Hono. */
export type DocumentFastPath = (req: IncomingMessage, res: ServerResponse) => Promise<boolean> | undefined;

const INDEX_ROUTE = '/v1/index';
const BUNDLE_ROUTE = '/v1/packages/:ns/:name/versions/:version/bundle';

export function createDocumentFastPath(
  catalog: Catalog,
  signer: IndexSigner,
  metrics: RegistryMetrics,
): DocumentFastPath {
  const counted = (route: string) => ({
    ok: metrics.requests.labels('GET', route, '200'),
    notModified: metrics.requests.labels('GET', route, '304'),
    timer: metrics.duration.labels('GET', route),
  });
  const index = counted(INDEX_ROUTE);
  const bundle = counted(BUNDLE_ROUTE);
  const indexBytes = metrics.bytesServed.labels('index');
  const bundleBytes = metrics.bytesServed.labels('bundle');

  const answer = (
    req: IncomingMessage,
    res: ServerResponse,
    route: ReturnType<typeof counted>,
    start: bigint,
    doc: { etag: string; cacheControl: string; body: string; headers?: Record<string, string> },
  ): number => {
    let sent = 0;
    if (etagMatches(req.headers['if-none-match'], doc.etag)) {
      res.writeHead(304, { etag: doc.etag, 'cache-control': doc.cacheControl });
      res.end();
      route.notModified.inc();
    } else {
      sent = Buffer.byteLength(doc.body);
      res.writeHead(200, {
        etag: doc.etag,
        'cache-control': doc.cacheControl,
        'content-type': 'application/json',
        'content-length': sent,
        ...doc.headers,
      });
      res.end(doc.body);
      route.ok.inc();
    }
    route.timer.observe(Number(process.hrtime.bigint() - start) / 1e9);
    return sent;
  };

  const serveIndex = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const start = process.hrtime.bigint();
    let signed: Awaited<ReturnType<IndexSigner['get']>>;
    try {
      signed = await signer.get();
    } catch {
      return false;
    }
    const sent = answer(req, res, index, start, {
      etag: signed.etag,
      cacheControl: INDEX_CACHE_CONTROL,
      body: signed.body,
      headers: {
        'bpfleet-index-serial': String(signed.serial),
        'bpfleet-index-expires': signed.expires.toISOString(),
      },
    });
    if (sent > 0) indexBytes.inc(sent);
    return true;
  };

  const serveBundle = async (
    req: IncomingMessage,
    res: ServerResponse,
    ns: string,
    name: string,
    version: string,
  ): Promise<boolean> => {
    const start = process.hrtime.bigint();
    let v: Awaited<ReturnType<Catalog['getVersion']>>;
    try {
      v = await catalog.getVersion(ns, name, version);
    } catch {
      return false;
    }
    if (!v) return false;
    const sent = answer(req, res, bundle, start, {
      etag: `"${sha256Digest(v.bundle)}"`,
      cacheControl: IMMUTABLE,
      body: v.bundle,
    });
    if (sent > 0) bundleBytes.inc(sent);
    return true;
  };

  return (req, res) => {
    const url = req.url;
    if (req.method !== 'GET' || !url || url.includes('?')) return undefined;
    if (url === INDEX_ROUTE) return serveIndex(req, res);
    const parts = url.split('/');
    // ['', 'v1', 'packages', ns, name, 'versions', version, 'bundle']
    if (parts.length !== 8 || parts[1] !== 'v1' || parts[2] !== 'packages' || parts[5] !== 'versions')
      return undefined;
    if (parts[7] !== 'bundle') return undefined;
    const [ns, name] = [parts[3]!, parts[4]!];
    let version: string;
    try {
      version = decodeURIComponent(parts[6]!);
    } catch {
      return undefined;
    }
    if (
      validate(namespaceParam, ns, 'ns') ||
      validate(nameParam, name, 'name') ||
      validate(versionParam, version, 'version')
    )
      return undefined;
    return serveBundle(req, res, ns, name, version);
  };
}
