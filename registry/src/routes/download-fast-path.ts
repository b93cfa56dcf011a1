// The hot path of a registry: a plain GET of a published blob already in memory, answered without the
// framework (no Request/Response objects). Anything else — Range, If-Range, a cold blob — goes through Hono.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isDigest } from '@bpfleet/sdk/digest';
import type { RegistryMetrics } from '../middleware/metrics.js';
import { type BlobResponder, IMMUTABLE } from './blob-responder.js';
import { etagMatches } from './http-range.js';

const PREFIX = '/v1/blobs/';
const ROUTE = '/v1/blobs/:digest';

/** Returns true when it answered the request. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

export function createDownloadFastPath(downloads: BlobResponder, metrics: RegistryMetrics): FastPath {
  const ok = {
    GET: metrics.requests.labels('GET', ROUTE, '200'),
    HEAD: metrics.requests.labels('HEAD', ROUTE, '200'),
  };
  const notModified = {
    GET: metrics.requests.labels('GET', ROUTE, '304'),
    HEAD: metrics.requests.labels('HEAD', ROUTE, '304'),
  };
  const timers = { GET: metrics.duration.labels('GET', ROUTE), HEAD: metrics.duration.labels('HEAD', ROUTE) };
  const bytesServed = metrics.bytesServed.labels('package');

  return (req, res) => {
    const method = req.method;
    if ((method !== 'GET' && method !== 'HEAD') || !req.url?.startsWith(PREFIX)) return false;
    const digest = req.url.slice(PREFIX.length);
    if (!isDigest(digest) || req.headers.range !== undefined || req.headers['if-range'] !== undefined)
      return false;
    const bytes = downloads.cached(digest);
    if (!bytes) return false;
    const start = process.hrtime.bigint();
    const etag = `"${digest}"`;
    if (etagMatches(req.headers['if-none-match'], etag)) {
      res.writeHead(304, { etag, 'cache-control': IMMUTABLE });
      res.end();
      notModified[method].inc();
    } else {
      res.writeHead(200, {
        'content-type': 'application/gzip',
        etag,
        'cache-control': IMMUTABLE,
        'accept-ranges': 'bytes',
        'content-length': bytes.length,
      });
      if (method === 'HEAD') res.end();
      else {
        res.end(bytes);
        bytesServed.inc(bytes.length);
      }
      ok[method].inc();
    }
    timers[method].observe(Number(process.hrtime.bigint() - start) / 1e9);
    return true;
  };
}
