// Which paths a package may hold, and the error class of each path that it may not.
import { ArchiveError } from '../errors.js';
import { ARCHES, type Arch } from '../manifest/types.js';

export const MANIFEST_PATH = 'manifest.json';
export const OBJECT_DIR = 'bpf';
/** The arch directory of an object that runs on every arch. */
export const ANY_ARCH = 'any';

const OBJECT_PATH = new RegExp(
  `^${OBJECT_DIR}/(${[...ARCHES, ANY_ARCH].join('|')})/[A-Za-z0-9_][A-Za-z0-9_-]{0,63}\\.bpf\\.o$`,
);
// The minimized BTF that carries an object's CO-RE types to kernels without BTF (`requires.btf: "core"`).
const BTF_PATH = new RegExp(
  `^${OBJECT_DIR}/(${[...ARCHES, ANY_ARCH].join('|')})/[A-Za-z0-9_][A-Za-z0-9_-]{0,63}\\.min\\.btf$`,
);
const TOP_LEVEL = new Set([MANIFEST_PATH, 'README.md', 'LICENSE']);

/** The arch directory (`x86`, …, `any`) of an object path, or undefined for other files. */
export function objectArch(path: string): Arch | typeof ANY_ARCH | undefined {
  return OBJECT_PATH.exec(path)?.[1] as Arch | typeof ANY_ARCH | undefined;
}

/** The arch directory of a package's minimized BTF file (`bpf/<arch>/<name>.min.btf`), or undefined. */
export function btfArch(path: string): Arch | typeof ANY_ARCH | undefined {
  return BTF_PATH.exec(path)?.[1] as Arch | typeof ANY_ARCH | undefined;
}

/** Throws the ArchiveError for a path a package may not hold. `context` starts the message. */
export function checkEntryPath(path: string, context: string): void {
  const shown = JSON.stringify(path.length > 200 ? `${path.slice(0, 200)}…` : path);
  if (path.startsWith('/') || path.startsWith('\\') || /^[A-Za-z]:/.test(path)) {
    throw new ArchiveError('ABSOLUTE_PATH', `${context}: absolute path ${shown}`);
  }
  if (path.split(/[/\\]/).includes('..')) {
    throw new ArchiveError('PATH_TRAVERSAL', `${context}: path ${shown} leaves the package with ..`);
  }
  if (!TOP_LEVEL.has(path) && objectArch(path) === undefined && btfArch(path) === undefined) {
    throw new ArchiveError(
      'PATH_NOT_ALLOWED',
      `${context}: path ${shown} not allowed (only manifest.json, README.md, LICENSE, bpf/<arch|any>/<name>.bpf.o and .min.btf)`,
    );
  }
}
