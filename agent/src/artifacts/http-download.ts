// Downloads a blob by digest into the cache: size bound, Range resume, stall detection, retries with backoff.
// The bytes are hashed as they arrive and kept (they are at most the size the signed index gives), so a
// finished download is checked and returned without reading the file back.
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { RegistryError, TrustError } from '@bpfleet/sdk/errors';
import { type BackoffOptions, backoffDelay, sleep } from '../backoff.js';
import type { Logger } from '../logger.js';
import type { ArtifactCache } from './artifact-cache.js';
import { networkMessage, RegistryHttp } from './registry-http.js';

export interface DownloadOptions {
  attempts: number;
  backoff: BackoffOptions;
  /** Abort and resume when no byte arrives for this long (a trickling or frozen server). */
  stallTimeoutMs: number;
  /** Slow retrieval: once `stallTimeoutMs` has passed, a request averaging fewer bytes per second is abandoned. */
  minBytesPerSecond?: number;
  logger: Logger;
  headers?: Record<string, string>;
  /** The device's registry connection; a shared default one when absent. */
  http?: RegistryHttp;
}

let defaultHttp: RegistryHttp | undefined;
/** For callers that do not keep their own connection (tools, tests): one keep-alive pool per process. */
export function sharedRegistryHttp(): RegistryHttp {
  defaultHttp ??= new RegistryHttp({ maxSockets: 16 });
  return defaultHttp;
}

/** What a finished attempt holds: every byte of the blob and their digest. */
interface Downloaded {
  digest: string;
  bytes: Buffer;
}

export interface BlobRef {
  /** For messages: `acme/xdp-fw@1.2.0`. */
  label: string;
  digest: string;
  /** From the signed index: more bytes than this is an attack (endless data), not a bigger file. */
  size: number;
}

class Retryable extends Error {}

export async function downloadBlob(
  cache: ArtifactCache,
  url: string,
  blob: BlobRef,
  options: DownloadOptions,
  /** The reconcile pass's: aborted when the agent stops; the partial file stays for the next start to resume. */
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const cached = await cache.get(blob.digest);
  if (cached) return cached;
  let lastError: unknown;
  let restarts = 0;
  for (let attempt = 0; attempt < options.attempts; attempt++) {
    signal?.throwIfAborted();
    if (attempt > 0) await sleep(backoffDelay(attempt - 1, options.backoff), signal);
    let got: Downloaded;
    try {
      got = await fetchInto(cache, url, blob, options, signal);
    } catch (err) {
      if (!(err instanceof Retryable)) throw err;
      lastError = err;
      options.logger.info('download interrupted, will resume', { blob: blob.label, error: err.message });
      continue;
    }
    if (got.digest === blob.digest) {
      await cache.commitPartial(blob.digest);
      return got.bytes;
    }
    await cache.dropPartial(blob.digest);
    // A resumed download can splice two different bodies; start over once before calling it tampering.
    if (restarts++ === 0) continue;
    throw new TrustError(
      'DIGEST_MISMATCH',
      `fetch ${blob.label}: digest mismatch: expected ${blob.digest}, got ${got.digest}`,
    );
  }
  throw new RegistryError(
    'FETCH_FAILED',
    `fetch ${blob.label}: gave up after ${options.attempts} attempts: ${(lastError as Error | undefined)?.message}`,
    { cause: lastError },
  );
}

// A full disk is not a network hiccup: retrying cannot help until space is freed, so it ends the download.
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);

async function fetchInto(
  cache: ArtifactCache,
  url: string,
  blob: BlobRef,
  options: DownloadOptions,
  signal: AbortSignal | undefined,
): Promise<Downloaded> {
  try {
    return await fetchIntoFile(cache, url, blob, options, signal);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && DISK_FULL.has(code)) {
      throw new RegistryError(
        'CACHE_FULL',
        `fetch ${blob.label}: the artifact cache ${cache.dir} is full (${code}); the download resumes once space is freed`,
        { cause: err },
      );
    }
    throw err;
  }
}

async function fetchIntoFile(
  cache: ArtifactCache,
  url: string,
  blob: BlobRef,
  options: DownloadOptions,
  signal: AbortSignal | undefined,
): Promise<Downloaded> {
  let hash: Hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let offset = await cache.partialSize(blob.digest);
  if (offset > blob.size) {
    await cache.dropPartial(blob.digest);
    offset = 0;
  }
  if (offset > 0) {
    // Resuming: what is already on disk counts towards the digest.
    const kept = await cache.readPartial(blob.digest);
    offset = kept.length;
    hash.update(kept);
    chunks.push(kept);
    if (offset === blob.size) {
      // Complete before a crash, maybe not yet on disk: synced before it is renamed into place.
      const done = await cache.openPartial(blob.digest, 'a');
      try {
        await done.sync();
      } finally {
        await done.close();
      }
      return { digest: `sha256:${hash.digest('hex')}`, bytes: kept };
    }
  }
  const controller = new AbortController();
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      controller.abort();
    }, options.stallTimeoutMs);
  };
  arm();
  const cancel = () => controller.abort();
  signal?.addEventListener('abort', cancel, { once: true });
  const headers: Record<string, string> = { ...options.headers };
  if (offset > 0) headers.range = `bytes=${offset}-`;
  let file: FileHandle | undefined;
  let res: IncomingMessage | undefined;
  try {
    try {
      res = await (options.http ?? sharedRegistryHttp()).get(url, { headers, signal: controller.signal });
    } catch (err) {
      throw new Retryable(stalled ? 'no response' : `request failed: ${networkMessage(err)}`);
    }
    const status = res.statusCode ?? 0;
    if (status === 416 && offset > 0) {
      // Our partial file does not fit the server's blob: start from zero.
      await cache.dropPartial(blob.digest);
      throw new Retryable('range not satisfiable');
    }
    if (status >= 500 || status === 429) {
      throw new Retryable(`HTTP ${status}`);
    }
    if (status !== 200 && status !== 206) {
      throw new RegistryError('FETCH_FAILED', `fetch ${blob.label}: HTTP ${status} from ${url}`);
    }
    let start = 0;
    if (status === 206) {
      const range = res.headers['content-range'];
      const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(range ?? '');
      start = match ? Number(match[1]) : -1;
      if (start !== offset) throw new Retryable(`unexpected Content-Range ${range}`);
    } else if (offset > 0) {
      // The server sent the whole blob instead of the rest: what was kept does not count.
      hash = createHash('sha256');
      chunks.length = 0;
    }
    const declared = Number(res.headers['content-length'] ?? Number.NaN);
    if (!Number.isNaN(declared) && start + declared > blob.size) {
      throw new TrustError(
        'SIZE_EXCEEDED',
        `fetch ${blob.label}: server announces ${start + declared} bytes, the index says ${blob.size}`,
      );
    }
    file = await cache.openPartial(blob.digest, start === 0 ? 'w' : 'a');
    let written = start;
    const began = Date.now();
    const body = res[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    for (;;) {
      let chunk: IteratorResult<Buffer>;
      try {
        chunk = await body.next();
      } catch (err) {
        throw new Retryable(
          stalled ? `stalled at byte ${written}` : `body cut at byte ${written}: ${networkMessage(err)}`,
        );
      }
      if (chunk.done) break;
      arm();
      written += chunk.value.byteLength;
      const elapsed = Date.now() - began;
      const rate = ((written - start) * 1000) / Math.max(1, elapsed);
      if (options.minBytesPerSecond && elapsed > options.stallTimeoutMs && rate < options.minBytesPerSecond) {
        controller.abort();
        await file.write(chunk.value);
        throw new Retryable(
          `too slow at byte ${written}: ${Math.round(rate)} B/s, below ${options.minBytesPerSecond} B/s`,
        );
      }
      if (written > blob.size) {
        controller.abort();
        await file.close();
        file = undefined;
        await cache.dropPartial(blob.digest);
        throw new TrustError(
          'SIZE_EXCEEDED',
          `fetch ${blob.label}: more than the ${blob.size} bytes the index says`,
        );
      }
      await file.write(chunk.value);
      hash.update(chunk.value);
      chunks.push(chunk.value);
    }
    if (written < blob.size) throw new Retryable(`body ended at byte ${written} of ${blob.size}`);
    // Durable before it is renamed into place under its digest.
    await file.sync();
    return { digest: `sha256:${hash.digest('hex')}`, bytes: Buffer.concat(chunks, written) };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', cancel);
    // An unread or half-read body cannot leave its socket for the next request.
    if (res && !res.complete) res.destroy();
    await file?.close();
  }
}
