// Serves immutable, digest-named bodies: strong ETag, immutable caching, HEAD, one Range, 304, from memory when small.
import { Readable } from 'node:stream';
import type { Context } from 'hono';
import type { AppDeps } from '../app-deps.js';
import { BlobCache } from '../blobs/blob-cache.js';
import { readBlob } from '../blobs/blob-store.js';
import { errorResponse, httpError } from '../http-errors.js';
import type { AppEnv } from '../middleware/app-env.js';
import { etagMatches, parseRange } from './http-range.js';

export const IMMUTABLE = 'public, max-age=31536000, immutable';

export interface BlobResponder {
  (c: Context<AppEnv>, digest: string): Promise<Response>;
  /** The bytes of a published blob when they are in memory (for the download fast path), else undefined. */
  cached(digest: string): Buffer | undefined;
}

export function createBlobResponder(deps: AppDeps): BlobResponder {
  const { catalog, blobs, metrics, limits } = deps;
  const cache = new BlobCache(limits.cacheBlobBytes, limits.cacheTotalBytes);
  // Digests already seen in a published version; a published version is never deleted, so this only grows.
  const published = new Set<string>();
  const bytesServed = metrics.bytesServed.labels('package');
  // A new version is asked for by a whole fleet at once: the first request reads it, the others wait for that.
  const loading = new Map<string, Promise<{ size: number; bytes?: Buffer } | undefined>>();
  const loadCold = (digest: string) => {
    let load = loading.get(digest);
    if (!load) {
      load = (async () => {
        const stat = await blobs.stat(digest);
        if (!stat) return undefined;
        if (stat.size > cache.maxItemBytes) return { size: stat.size };
        const bytes = await readBlob(blobs, digest);
        if (!bytes) return { size: stat.size };
        cache.set(digest, bytes);
        return { size: bytes.length, bytes };
      })().finally(() => loading.delete(digest));
      loading.set(digest, load);
    }
    return load;
  };

  const respond = async (c: Context<AppEnv>, digest: string): Promise<Response> => {
    if (!published.has(digest)) {
      if (!(await catalog.hasDigest(digest))) throw httpError('BLOB_NOT_FOUND', `blob ${digest}: not found`);
      published.add(digest);
    }
    const etag = `"${digest}"`;
    if (etagMatches(c.req.header('if-none-match'), etag)) {
      return new Response(null, { status: 304, headers: { etag, 'cache-control': IMMUTABLE } });
    }
    let bytes = cache.get(digest);
    let size = bytes?.length;
    if (size === undefined) {
      const cold = await loadCold(digest);
      if (!cold) {
        deps.logger.error('published blob missing from the blob store', { digest });
        return errorResponse(httpError('BLOB_NOT_FOUND', `blob ${digest}: missing from storage`));
      }
      ({ size, bytes } = cold);
    }
    const ifRange = c.req.header('if-range');
    const range = ifRange && ifRange !== etag ? undefined : parseRange(c.req.header('range'), size);
    if (range === 'unsatisfiable') {
      return new Response(
        JSON.stringify({
          error: { code: 'RANGE_NOT_SATISFIABLE', message: `blob ${digest}: range outside 0-${size - 1}` },
        }),
        { status: 416, headers: { 'content-range': `bytes */${size}`, 'content-type': 'application/json' } },
      );
    }
    const headers: Record<string, string> = {
      'content-type': 'application/gzip',
      etag,
      'cache-control': IMMUTABLE,
      'accept-ranges': 'bytes',
      'content-length': String(range ? range.end - range.start + 1 : size),
    };
    const status = range ? 206 : 200;
    if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
    if (c.req.method === 'HEAD') return new Response(null, { status, headers });

    if (bytes) {
      const body = range ? bytes.subarray(range.start, range.end + 1) : bytes;
      bytesServed.inc(body.length);
      return new Response(body, { status, headers });
    }
    const stream = await blobs.read(digest, range);
    if (!stream) throw httpError('BLOB_NOT_FOUND', `blob ${digest}: missing from storage`);
    bytesServed.inc(Number(headers['content-length']));
    return new Response(Readable.toWeb(Readable.from(stream)) as ReadableStream<Uint8Array>, {
      status,
      headers,
    });
  };
  return Object.assign(respond, {
    cached: (digest: string) => (published.has(digest) ? cache.get(digest) : undefined),
  });
}
