// Streaming unpack with limits: only regular files under the allowed paths, each class of bad input its own code.
import tar from 'tar-stream';
import { ArchiveError, isBpfleetError } from '../errors.js';
import { type ArchiveSource, boundedGunzip, type SourceSummary } from './bounded-gunzip.js';
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

async function readEntry(
  entry: AsyncIterable<Buffer>,
  size: number,
  context: string,
  name: string,
): Promise<Buffer> {
  const data = Buffer.alloc(size);
  let offset = 0;
  for await (const chunk of entry) {
    if (offset + chunk.length > size)
      throw new ArchiveError('CORRUPT_ARCHIVE', `${context}: ${name} overruns its size`);
    chunk.copy(data, offset);
    offset += chunk.length;
  }
  if (offset !== size) throw new ArchiveError('CORRUPT_ARCHIVE', `${context}: ${name} is truncated`);
  return data;
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
  let summary: SourceSummary | undefined;
  const extract = tar.extract();
  const feeding = feed(
    extract,
    boundedGunzip(source, bounds, context, (s) => {
      summary = s;
    }),
  );
  const files = new Map<string, Buffer>();
  try {
    for await (const entry of extract) {
      if (files.size >= bounds.maxEntries) {
        throw new ArchiveError('TOO_MANY_ENTRIES', `${context}: more than ${bounds.maxEntries} entries`);
      }
      const size = checkHeader(entry.header, files, bounds, context);
      files.set(
        entry.header.name,
        await readEntry(entry as AsyncIterable<Buffer>, size, context, entry.header.name),
      );
    }
  } catch (err) {
    extract.destroy();
    await feeding;
    if (isBpfleetError(err)) throw err;
    throw new ArchiveError('CORRUPT_ARCHIVE', `${context}: tar: ${(err as Error).message}`, { cause: err });
  }
  await feeding;
  if (!summary) throw new ArchiveError('CORRUPT_ARCHIVE', `${context}: tar ended before the gzip stream`);
  return { ...toPackageContents(files, context), archiveDigest: summary.digest, archiveSize: summary.size };
}
