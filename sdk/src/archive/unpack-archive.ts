// Streaming unpack with limits: only regular files under the allowed paths, each class of bad input its own code.
import tar from 'tar-stream';
import { ArchiveError, isBpfleetError } from '../errors.js';
import { type ArchiveSource, boundedGunzip, gunzipInMemory, type SourceSummary } from './bounded-gunzip.js';
import { type ArchiveLimits, DEFAULT_ARCHIVE_LIMITS } from './limits.js';
import { type PackageContents, toPackageContents } from './package-contents.js';
import { checkEntryPath } from './paths.js';

export interface UnpackedPackage extends PackageContents {
  /** sha256 and size of the archive bytes read from the source. */
  archiveDigest: string;
  archiveSize: number;
}

export interface UnpackOptions {
  /** Starts error messages, e.g. `fetch acme/xdp-fw@1.2.0`. */
  context?: string;
}

type Extract = ReturnType<typeof tar.extract>;
type Header = tar.Header;

/** Writes the tar stream into the extractor with backpressure; on failure destroys it with the error. */
async function feed(extract: Extract, chunks: AsyncIterable<Buffer>): Promise<void> {
  try {
    for await (const chunk of chunks) {
      if (extract.destroyed) return;
      if (!extract.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            extract.off('drain', done);
            extract.off('close', done);
            resolve();
          };
          extract.on('drain', done);
          extract.on('close', done);
        });
      }
    }
    if (!extract.destroyed) extract.end(undefined);
  } catch (err) {
    extract.destroy(err as Error);
  }
}

function checkHeader(
  header: Header,
  files: Map<string, Buffer>,
  limits: ArchiveLimits,
  context: string,
): number {
  const { name } = header;
  checkEntryPath(name, context);
  if (header.type === 'symlink' || header.type === 'link') {
    throw new ArchiveError('LINK_NOT_ALLOWED', `${context}: ${name} is a ${header.type}`);
  }
  if (header.type !== 'file') {
    throw new ArchiveError(
      'NOT_A_REGULAR_FILE',
      `${context}: ${name} is a ${header.type ?? 'non-standard entry'}`,
    );
  }
  if (files.has(name)) throw new ArchiveError('DUPLICATE_ENTRY', `${context}: ${name} appears twice`);
  const size = header.size ?? 0;
  if (size > limits.maxEntryBytes) {
    throw new ArchiveError(
      'ENTRY_TOO_LARGE',
      `${context}: ${name} is ${size} bytes, over ${limits.maxEntryBytes}`,
    );
  }
  return size;
}

/**
 * Reads a package from bytes or a stream, holding at most the limits in memory. Never trusts the order of
 * entries; the whole source is read (and hashed) before the contents are returned.
 */
export async function unpackArchive(
  source: ArchiveSource,
  limits: Partial<ArchiveLimits> = {},
  options: UnpackOptions = {},
): Promise<UnpackedPackage> {
  const bounds: ArchiveLimits = { ...DEFAULT_ARCHIVE_LIMITS, ...limits };
  const context = options.context ?? 'unpack';
  if (source instanceof Uint8Array) {
    const inMemory = gunzipInMemory(source, bounds, context);
    if (inMemory) {
      const extract = tar.extract();
      extract.end(inMemory.tar);
      const files = await readEntries(extract, bounds, context);
      return {
        ...toPackageContents(files, context),
        archiveDigest: inMemory.digest,
        archiveSize: source.length,
      };
    }
  }
  let summary: SourceSummary | undefined;
  const extract = tar.extract();
  const feeding = feed(
    extract,
    boundedGunzip(source, bounds, context, (s) => {
      summary = s;
    }),
  );
  let files: Map<string, Buffer>;
  try {
    files = await readEntries(extract, bounds, context);
  } catch (err) {
    await feeding;
    throw err;
  }
  await feeding;
  if (!summary) throw new ArchiveError('CORRUPT_ARCHIVE', `${context}: tar ended before the gzip stream`);
  return { ...toPackageContents(files, context), archiveDigest: summary.digest, archiveSize: summary.size };
}

/**
 * Every entry of the tar stream, checked; on failure the extractor is destroyed and the error typed. Driven by
 * events rather than async iteration: the iterators cost more than the parsing for a package of a few files.
 */
function readEntries(extract: Extract, bounds: ArchiveLimits, context: string): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    const files = new Map<string, Buffer>();
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      extract.destroy();
      reject(
        isBpfleetError(err)
          ? err
          : new ArchiveError('CORRUPT_ARCHIVE', `${context}: tar: ${(err as Error).message}`, { cause: err }),
      );
    };
    extract.on('entry', (header, stream, next) => {
      try {
        if (files.size >= bounds.maxEntries) {
          throw new ArchiveError('TOO_MANY_ENTRIES', `${context}: more than ${bounds.maxEntries} entries`);
        }
        const size = checkHeader(header, files, bounds, context);
        const { name } = header;
        const data = Buffer.alloc(size);
        let offset = 0;
        stream.on('data', (value: unknown) => {
          const chunk = value as Buffer;
          if (failed) return;
          if (offset + chunk.length > size) {
            return fail(new ArchiveError('CORRUPT_ARCHIVE', `${context}: ${name} overruns its size`));
          }
          chunk.copy(data, offset);
          offset += chunk.length;
        });
        stream.on('error', fail);
        stream.on('end', () => {
          if (failed) return;
          if (offset !== size)
            return fail(new ArchiveError('CORRUPT_ARCHIVE', `${context}: ${name} is truncated`));
          files.set(name, data);
          next();
        });
      } catch (err) {
        fail(err);
      }
    });
    extract.on('error', fail);
    extract.on('close', () => {
      if (!failed) resolve(files);
    });
  });
}
