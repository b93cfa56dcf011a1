// The checked content of a package: its manifest (parsed, with the exact bytes and their digest) and files.
import { ArchiveError, ManifestError } from '../errors.js';
import { manifestDigest } from '../manifest/package-name.js';
import { parseManifest } from '../manifest/parse-manifest.js';
import type { Arch, Manifest } from '../manifest/types.js';
import { ANY_ARCH, btfArch, MANIFEST_PATH, OBJECT_DIR, objectArch } from './paths.js';

export interface PackageContents {
  manifest: Manifest;
  manifestBytes: Buffer;
  manifestDigest: string;
  /** Every file by its path in the archive, manifest.json included. */
  files: Map<string, Buffer>;
  /** The object for this arch: `bpf/<arch>/…`, else `bpf/any/…`, else undefined. */
  object(arch: Arch | string): Buffer | undefined;
  /** The minimized BTF beside that object (`requires.btf: "core"`), or undefined. */
  btf(arch: Arch | string): Buffer | undefined;
}

/** Each arch directory's minimized BTF: at most one, beside an object, and one per object when the manifest says `core`. */
function btfPaths(
  files: Map<string, Buffer>,
  objects: Map<string, string>,
  manifest: Manifest,
  context: string,
): Map<string, string> {
  const btfs = new Map<string, string>();
  for (const path of files.keys()) {
    const arch = btfArch(path);
    if (arch === undefined) continue;
    const other = btfs.get(arch);
    if (other !== undefined) {
      throw new ArchiveError('MULTIPLE_BTF', `${context}: ${other} and ${path}: one BTF file per arch`);
    }
    if (!objects.has(arch))
      throw new ArchiveError('BTF_WITHOUT_OBJECT', `${context}: ${path} has no object beside it`);
    btfs.set(arch, path);
  }
  if (manifest.requires.btf === 'core') {
    for (const [arch, path] of objects) {
      if (!btfs.has(arch)) {
        throw new ArchiveError(
          'BTF_MISSING',
          `${context}: requires.btf is "core" but ${path} has no .min.btf beside it`,
        );
      }
    }
  }
  return btfs;
}

/** An archive's files checked as a whole: manifest present and valid, one object per arch, arches declared. */
export function toPackageContents(files: Map<string, Buffer>, context: string): PackageContents {
  const manifestBytes = files.get(MANIFEST_PATH);
  if (!manifestBytes) throw new ArchiveError('MANIFEST_MISSING', `${context}: no ${MANIFEST_PATH}`);
  let manifest: Manifest;
  try {
    manifest = parseManifest(manifestBytes);
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err;
    throw new ArchiveError('MANIFEST_INVALID', `${context}: ${err.message}`, { cause: err });
  }
  const objects = new Map<string, string>();
  for (const path of files.keys()) {
    const arch = objectArch(path);
    if (arch === undefined) continue;
    const other = objects.get(arch);
    if (other !== undefined) {
      throw new ArchiveError('MULTIPLE_OBJECTS', `${context}: ${other} and ${path}: one object per arch`);
    }
    objects.set(arch, path);
    if (arch !== ANY_ARCH && !manifest.requires.arches.includes(arch)) {
      throw new ArchiveError('UNDECLARED_ARCH', `${context}: ${path} is for ${arch}, not in requires.arches`);
    }
  }
  for (const arch of manifest.requires.arches) {
    if (!objects.has(arch) && !objects.has(ANY_ARCH)) {
      throw new ArchiveError(
        'OBJECT_MISSING',
        `${context}: no ${OBJECT_DIR}/${arch}/ or ${OBJECT_DIR}/${ANY_ARCH}/ object`,
      );
    }
  }
  const btfs = btfPaths(files, objects, manifest, context);
  return {
    manifest,
    manifestBytes,
    manifestDigest: manifestDigest(manifestBytes),
    files,
    object(arch) {
      const path = objects.get(arch) ?? objects.get(ANY_ARCH);
      return path === undefined ? undefined : files.get(path);
    },
    btf(arch) {
      const path = objects.has(arch) ? btfs.get(arch) : btfs.get(ANY_ARCH);
      return path === undefined ? undefined : files.get(path);
    },
  };
}
