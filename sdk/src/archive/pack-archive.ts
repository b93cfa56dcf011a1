// Deterministic packing: the same files give the same bytes, whatever their order, mtimes, owners or umask.
import { constants, gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { ArchiveError } from '../errors.js';
import { DEFAULT_ARCHIVE_LIMITS } from './limits.js';
import { type PackageContents, toPackageContents } from './package-contents.js';
import { checkEntryPath } from './paths.js';

export interface PackFile {
  path: string;
  data: Uint8Array;
}

/** gzip header byte 9 (OS): zlib writes its build's OS code; we always write 3 (Unix) so all builders agree. */
const GZIP_OS_OFFSET = 9;
const GZIP_OS_UNIX = 3;
const EPOCH = new Date(0);

/** Checks the files as unpacking would, and returns them sorted by path (byte order). */
export function checkPackFiles(files: Iterable<PackFile>, context = 'pack'): PackageContents {
  const byPath = new Map<string, Buffer>();
  for (const file of files) {
    checkEntryPath(file.path, context);
    if (byPath.has(file.path))
      throw new ArchiveError('DUPLICATE_ENTRY', `${context}: ${file.path} given twice`);
    if (file.data.byteLength > DEFAULT_ARCHIVE_LIMITS.maxEntryBytes) {
      throw new ArchiveError(
        'ENTRY_TOO_LARGE',
        `${context}: ${file.path} is ${file.data.byteLength} bytes, over ${DEFAULT_ARCHIVE_LIMITS.maxEntryBytes}`,
      );
    }
    byPath.set(file.path, Buffer.from(file.data));
  }
  const sorted = new Map([...byPath].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  return toPackageContents(sorted, context);
}

function tarEntries(files: Map<string, Buffer>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on('data', (chunk) => {
      chunks.push(chunk as Buffer);
    });
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
  for (const [name, data] of files) {
    // Every header field fixed but name and size: no owner, time or umask reaches the bytes.
    pack.entry(
      {
        name,
        size: data.length,
        mode: 0o644,
        mtime: EPOCH,
        uid: 0,
        gid: 0,
        uname: '',
        gname: '',
        type: 'file',
      },
      data,
    );
  }
  pack.finalize();
  return done;
}

/**
 * Packs a package: sorted entries, mtime 0, uid/gid 0, empty owner names, mode 0644, no directories,
 * gzip level 9 with mtime 0, no name and OS byte 3. Identical bytes need the same zlib (same Node line).
 */
export async function packArchive(files: Iterable<PackFile>): Promise<Buffer> {
  return (await packContents(files, 'pack')).bytes;
}

/** packArchive, also returning the checked contents (manifest parsed) it packed. */
export async function packContents(
  files: Iterable<PackFile>,
  context: string,
): Promise<{ bytes: Buffer; contents: PackageContents }> {
  const contents = checkPackFiles(files, context);
  const tarBytes = await tarEntries(contents.files);
  const bytes = gzipSync(tarBytes, { level: 9, memLevel: 8, strategy: constants.Z_DEFAULT_STRATEGY });
  bytes[GZIP_OS_OFFSET] = GZIP_OS_UNIX;
  return { bytes, contents };
}
