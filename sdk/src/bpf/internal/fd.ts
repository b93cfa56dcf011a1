// File-descriptor and errno helpers shared by the loader's resource classes.
import { closeSync, readdirSync } from 'node:fs';
import { constants } from 'node:os';

const names = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));
// libbpf's own codes (enum libbpf_errno, from 4000): an error code must stay SCREAMING_SNAKE.
const LIBBPF_ERRNOS = [
  'LIBELF',
  'FORMAT',
  'KVERSION',
  'ENDIAN',
  'INTERNAL',
  'RELOC',
  'LOAD',
  'VERIFY',
  'PROG2BIG',
  'KVER',
  'PROGTYPE',
  'WRNGPID',
  'INVSEQ',
  'NLPARSE',
];
for (const [i, name] of LIBBPF_ERRNOS.entries()) names.set(4000 + i, `LIBBPF_${name}`);

/** `EBUSY` for 16; libbpf returns negative errnos, both signs are accepted. */
export function errnoName(err: number): string {
  return names.get(Math.abs(err)) ?? `errno ${Math.abs(err)}`;
}

export function closeFd(fd: number): void {
  if (fd < 0) return;
  try {
    closeSync(fd);
  } catch {
    // Already closed: closing is idempotent for our callers.
  }
}

/** Open file descriptors of this process, for leak checks. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}
