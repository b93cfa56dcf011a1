// Packs a program folder: manifest.json, README.md and LICENSE at its top, objects from build/bpf/<arch>/.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Digest } from '../digest.js';
import { ArchiveError } from '../errors.js';
import type { Manifest } from '../manifest/types.js';
import { type PackFile, packContents } from './pack-archive.js';
import { OBJECT_DIR } from './paths.js';

/** Where the build writes objects inside a program folder: `build/bpf/<arch>/<name>.bpf.o`. */
export const BUILD_OBJECT_DIR = join('build', OBJECT_DIR);
const TOP_LEVEL_FILES = ['manifest.json', 'README.md', 'LICENSE'];

export interface PackedPackage {
  bytes: Buffer;
  digest: string;
  manifest: Manifest;
}

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function listDir(path: string): Promise<string[]> {
  try {
    return (await readdir(path)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Collects a program folder's package files. Objects come only from `build/bpf/<arch>/*.bpf.o` (the build
 * output), so stale sources never slip in; any other file there is refused by the path rules.
 */
export async function collectPackageFiles(dir: string): Promise<PackFile[]> {
  const files: PackFile[] = [];
  for (const name of TOP_LEVEL_FILES) {
    const data = await readOptional(join(dir, name));
    if (data) files.push({ path: name, data });
  }
  const objectRoot = join(dir, BUILD_OBJECT_DIR);
  for (const arch of await listDir(objectRoot)) {
    for (const file of await listDir(join(objectRoot, arch))) {
      files.push({
        path: `${OBJECT_DIR}/${arch}/${file}`,
        data: await readFile(join(objectRoot, arch, file)),
      });
    }
  }
  return files;
}

export async function packDirectory(dir: string): Promise<PackedPackage> {
  const files = await collectPackageFiles(dir);
  if (!files.some((f) => f.path === 'manifest.json')) {
    throw new ArchiveError('MANIFEST_MISSING', `pack ${dir}: no manifest.json`);
  }
  const { bytes, contents } = await packContents(files, `pack ${dir}`);
  return { bytes, digest: sha256Digest(bytes), manifest: contents.manifest };
}
