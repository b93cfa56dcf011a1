// archive: the deterministic package format (gzip'd tar) — pack, and streaming unpack with limits.

export type { ArchiveSource } from './bounded-gunzip.js';
export { type ArchiveLimits, DEFAULT_ARCHIVE_LIMITS } from './limits.js';
export { checkPackFiles, type PackFile, packArchive } from './pack-archive.js';
export {
  BUILD_OBJECT_DIR,
  collectPackageFiles,
  type PackedPackage,
  packDirectory,
} from './pack-directory.js';
export type { PackageContents } from './package-contents.js';
export { PACKAGE_FILE_SUFFIX, packageFileName } from './package-file-name.js';
export { ANY_ARCH, MANIFEST_PATH, objectArch } from './paths.js';
export { type UnpackedPackage, type UnpackOptions, unpackArchive } from './unpack-archive.js';
