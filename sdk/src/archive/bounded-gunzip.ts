// Streaming gunzip that counts bytes in and out and stops at the limits before buffering anything more.
import { createHash } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { ArchiveError, isBpfleetError } from '../errors.js';
import type { ArchiveLimits } from './limits.js';

const CHUNK = 64 * 1024;
/**
 * Bytes already in memory that inflate to at most this are inflated in one call: a package is tens of KB, and
 * the stream machinery costs ten times the inflating. Past it (a big package or a bomb) the stream takes over,
 * so the event loop is never held for more than this much inflating.
 */
const IN_MEMORY_MAX_OUTPUT = 4 * 1024 * 1024;

export type ArchiveSource = Uint8Array | AsyncIterable<Uint8Array>;

/** What the source held, known once it is fully read. */
export interface SourceSummary {
  digest: string;
  size: number;
}

async function* chunksOf(source: ArchiveSource, context: string): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    for (let i = 0; i < source.byteLength; i += CHUNK) yield source.subarray(i, i + CHUNK);
    return;
  }
  try {
    yield* source;
  } catch (err) {
    // A failing source (file, network) is not a bad archive: keep the two apart.
    throw new ArchiveError('SOURCE_FAILED', `${context}: reading the archive: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

async function* checkedSource(
  source: ArchiveSource,
  limits: ArchiveLimits,
  context: string,
  summary: (s: SourceSummary) => void,
): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let size = 0;
  let magic = Buffer.alloc(0);
  for await (const chunk of chunksOf(source, context)) {
    if (!(chunk instanceof Uint8Array))
      throw new ArchiveError('CORRUPT_ARCHIVE', `${context}: source gave a non-byte chunk`);
    size += chunk.byteLength;
    if (size > limits.maxCompressedBytes) {
      throw new ArchiveError(
        'ARCHIVE_TOO_LARGE',
        `${context}: archive is over ${limits.maxCompressedBytes} bytes`,
      );
    }
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (magic.length < 2) {
      magic = Buffer.concat([magic, buf.subarray(0, 2 - magic.length)]);
      if (magic.length === 2 && (magic[0] !== 0x1f || magic[1] !== 0x8b)) {
        throw new ArchiveError('NOT_GZIP', `${context}: not a gzip stream`);
      }
    }
    hash.update(buf);
    yield buf;
  }
  if (magic.length < 2) throw new ArchiveError('NOT_GZIP', `${context}: not a gzip stream (${size} bytes)`);
  summary({ digest: `sha256:${hash.digest('hex')}`, size });
}

/**
 * The tar stream inside a gzip source, chunk by chunk. Throws ARCHIVE_TOO_LARGE as soon as the output passes
 * `maxTotalBytes`: a gzip bomb costs one chunk of memory and the time to inflate the limit, never more.
 */
export async function* boundedGunzip(
  source: ArchiveSource,
  limits: ArchiveLimits,
  context: string,
  summary: (s: SourceSummary) => void,
): AsyncGenerator<Buffer> {
  const input = Readable.from(checkedSource(source, limits, context, summary), { objectMode: false });
  const gunzip = createGunzip({ chunkSize: CHUNK });
  pipeline(input, gunzip, () => {});
  let total = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limits.maxTotalBytes) {
        throw new ArchiveError(
          'ARCHIVE_TOO_LARGE',
          `${context}: content is over ${limits.maxTotalBytes} bytes`,
        );
      }
      yield chunk;
    }
  } catch (err) {
    if (isBpfleetError(err)) throw err;
    throw new ArchiveError('CORRUPT_ARCHIVE', `${context}: gzip: ${(err as Error).message}`, { cause: err });
  } finally {
    input.destroy();
    gunzip.destroy();
  }
}

/**
 * The tar inside gzip'd bytes held in memory, with the same limits and errors as `boundedGunzip`; undefined when
 * the content is larger than the in-memory bound but within the limits (then stream it).
 */
export function gunzipInMemory(
  source: Uint8Array,
  limits: ArchiveLimits,
  context: string,
): { tar: Buffer; digest: string } | undefined {
  if (source.byteLength > limits.maxCompressedBytes) {
    throw new ArchiveError(
      'ARCHIVE_TOO_LARGE',
      `${context}: archive is over ${limits.maxCompressedBytes} bytes`,
    );
  }
  if (source.byteLength < 2 || source[0] !== 0x1f || source[1] !== 0x8b) {
    throw new ArchiveError(
      'NOT_GZIP',
      `${context}: not a gzip stream${source.byteLength < 2 ? ` (${source.byteLength} bytes)` : ''}`,
    );
  }
  const bound = Math.min(limits.maxTotalBytes, IN_MEMORY_MAX_OUTPUT);
  let tar: Buffer;
  try {
    tar = gunzipSync(source, { maxOutputLength: bound, chunkSize: CHUNK });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      if (bound < limits.maxTotalBytes) return undefined;
      throw new ArchiveError(
        'ARCHIVE_TOO_LARGE',
        `${context}: content is over ${limits.maxTotalBytes} bytes`,
      );
    }
    throw new ArchiveError('CORRUPT_ARCHIVE', `${context}: gzip: ${(err as Error).message}`, { cause: err });
  }
  const digest = `sha256:${createHash('sha256').update(source).digest('hex')}`;
  return { tar, digest };
}
