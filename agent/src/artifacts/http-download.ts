// Downloads a blob by digest into the cache: size bound, Range resume, stall detection, retries with backoff.
import { open } from 'node:fs/promises';
import { RegistryError, TrustError } from '@bpfleet/sdk/errors';
import { type BackoffOptions, backoffDelay, sleep } from '../backoff.js';
import type { Logger } from '../logger.js';
import type { ArtifactCache } from './artifact-cache.js';

export interface DownloadOptions {
  attempts: number;
  backoff: BackoffOptions;
  /** Abort and resume when no byte arrives for this long (a trickling or frozen server). */
  stallTimeoutMs: number;
  /** Slow retrieval: once `stallTimeoutMs` has passed, a request averaging fewer bytes per second is abandoned. */
  minBytesPerSecond?: number;
  logger: Logger;
  headers?: Record<string, string>;
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
): Promise<Uint8Array> {
  const cached = await cache.get(blob.digest);
  if (cached) return cached;
  let lastError: unknown;
  let restarts = 0;
  for (let attempt = 0; attempt < options.attempts; attempt++) {
    if (attempt > 0) await sleep(backoffDelay(attempt - 1, options.backoff));
    try {
      await fetchInto(cache, url, blob, options);
    } catch (err) {
      if (!(err instanceof Retryable)) throw err;
      lastError = err;
      options.logger.info('download interrupted, will resume', { blob: blob.label, error: err.message });
      continue;
    }
    const found = await cache.commitPartial(blob.digest);
    if (found === blob.digest) {
      const bytes = await cache.get(blob.digest);
      if (bytes) return bytes;
    }
    await cache.dropPartial(blob.digest);
    // A resumed download can splice two different bodies; start over once before calling it tampering.
    if (restarts++ === 0) continue;
    throw new TrustError(
      'DIGEST_MISMATCH',
      `fetch ${blob.label}: digest mismatch: expected ${blob.digest}, got ${found}`,
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
): Promise<void> {
  try {
    await fetchIntoFile(cache, url, blob, options);
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
): Promise<void> {
  let offset = await cache.partialSize(blob.digest);
  if (offset > blob.size) {
    await cache.dropPartial(blob.digest);
    offset = 0;
  }
  if (offset === blob.size && offset > 0) return;
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
  const headers: Record<string, string> = { ...options.headers };
  if (offset > 0) headers.range = `bytes=${offset}-`;
  let file: Awaited<ReturnType<typeof open>> | undefined;
  try {
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: controller.signal });
    } catch (err) {
      throw new Retryable(stalled ? 'no response' : `request failed: ${causeMessage(err)}`);
    }
    if (res.status === 416 && offset > 0) {
      // Our partial file does not fit the server's blob: start from zero.
      await cache.dropPartial(blob.digest);
      throw new Retryable('range not satisfiable');
    }
    if (res.status >= 500 || res.status === 429) throw new Retryable(`HTTP ${res.status}`);
    if (res.status !== 200 && res.status !== 206) {
      throw new RegistryError('FETCH_FAILED', `fetch ${blob.label}: HTTP ${res.status} from ${url}`);
    }
    let start = 0;
    if (res.status === 206) {
      const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
      start = match ? Number(match[1]) : -1;
      if (start !== offset)
        throw new Retryable(`unexpected Content-Range ${res.headers.get('content-range')}`);
    }
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    if (!Number.isNaN(declared) && start + declared > blob.size) {
      throw new TrustError(
        'SIZE_EXCEEDED',
        `fetch ${blob.label}: server announces ${start + declared} bytes, the index says ${blob.size}`,
      );
    }
    file = await open(cache.partialPath(blob.digest), start === 0 ? 'w' : 'a', 0o600);
    let written = start;
    const began = Date.now();
    if (!res.body) throw new Retryable('empty body');
    const reader = res.body.getReader();
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (err) {
        throw new Retryable(
          stalled ? `stalled at byte ${written}` : `body cut at byte ${written}: ${causeMessage(err)}`,
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
    }
    if (written < blob.size) throw new Retryable(`body ended at byte ${written} of ${blob.size}`);
  } finally {
    clearTimeout(timer);
    await file?.close();
  }
}

function causeMessage(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string; code?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}
