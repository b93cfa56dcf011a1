// The edge's data directory made private at every start: 0700 directories, 0600 files, whatever an older edge,
// an operator's umask or a restore from backup left (databases, their -wal/-shm, keys, the blob store's folders).
import { chmod, lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

/** Creates `dir` (0700) or tightens it and what it holds, two levels deep; returns the paths it changed. */
export async function secureDataDir(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR });
  const changed: string[] = [];
  await tighten(dir, 2, changed);
  return changed;
}

/**
 * Files 0600 (never adding a bit), directories 0700, symlinks left alone. Blobs below the second level are
 * covered by their 0700 parents: walking millions of them at every start would buy nothing.
 */
async function tighten(path: string, depth: number, changed: string[]): Promise<void> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) return;
  const mode = info.mode & 0o777;
  const want = info.isDirectory() ? PRIVATE_DIR : mode & PRIVATE_FILE;
  if (mode !== want) {
    await chmod(path, want);
    changed.push(path);
  }
  if (!info.isDirectory() || depth === 0) return;
  for (const name of await readdir(path)) await tighten(join(path, name), depth - 1, changed);
}
