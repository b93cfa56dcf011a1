// The agent's pin root: on bpffs, created by the agent mode 0700, refused when anyone else could have touched it.
import { chmodSync, lstatSync, mkdirSync, readdirSync, type Stats, statfsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { BpfleetError, errorMessage } from '@bpfleet/sdk/errors';

/** statfs(2) f_type of bpffs (include/uapi/linux/magic.h). */
export const BPF_FS_MAGIC = 0xcafe4a11;
const FS_NAMES: Record<number, string> = {
  1650812274: 'sysfs',
  16914836: 'tmpfs',
  61267: 'ext4',
  2035054128: 'overlayfs',
  2435016766: 'btrfs',
  1481003842: 'xfs',
};
/** Entries below the pin root are `<id>/{links,maps}/<pin>`: deeper means something else wrote there. */
const MAX_DEPTH = 4;
const MAX_ENTRIES = 100_000;

export class PinRootError extends BpfleetError {}

/**
 * Makes sure `pinRoot` is a directory on bpffs that only this agent can change: the bpffs mount itself may be a
 * root-owned sticky directory (like /tmp, as `mount -t bpf` leaves it), every directory from there down to the
 * pin root must belong to root or to the agent and be writable by nobody else, the pin root and everything in
 * it must belong to the agent alone. Creates what is missing, one directory at a time (a recursive mkdir on
 * sysfs, where `ip netns exec` hides bpffs, loops forever on ENOENT). Throws PinRootError: PIN_ROOT_NOT_BPFFS,
 * PIN_ROOT_UNSAFE, PIN_ROOT_UNUSABLE.
 */
export function preparePinRoot(pinRoot: string, uid: number = process.geteuid?.() ?? 0): void {
  const root = resolve(pinRoot);
  const chain = ancestors(root);
  let mount: string | undefined;
  for (const [i, dir] of chain.entries()) {
    // Above the mount, symlinks are the system's (root's) business; inside bpffs, none is followed.
    const st = statOrUndefined(root, dir, mount ? lstatSync : statSync);
    if (!st) {
      if (!mount) throw notBpffs(root, chain[i - 1] ?? '/');
      create(root, dir);
      assertOwned(root, dir, uid, dir === root);
    } else if (mount) {
      // Checked before statfs, which would follow a symlink out of bpffs.
      assertOwned(root, dir, uid, dir === root);
      if (fsType(root, dir) !== BPF_FS_MAGIC) throw notBpffs(root, dir);
    } else if (fsType(root, dir) === BPF_FS_MAGIC) {
      mount = dir;
      if (dir === root) assertOwnMount(root, st, uid);
      else assertMount(root, dir, st, uid);
    }
  }
  if (!mount) throw notBpffs(root, root);
  // Ours and writable by nobody else: tighten what an older agent created 0755.
  chmodSync(root, 0o700);
  assertContents(root, uid);
}

/**
 * A deployment's pin folders (the pin root, `<id>/links`, `<id>/maps`), one level at a time with mode 0700: a recursive mkdir
 * spins forever on sysfs when bpffs went away under a running agent.
 */
export function makeDeploymentDirs(dir: string): void {
  for (const d of [dirname(dir), dir, join(dir, 'links'), join(dir, 'maps')]) {
    try {
      mkdirSync(d, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

function ancestors(path: string): string[] {
  const chain: string[] = [];
  for (let p = path; ; p = dirname(p)) {
    chain.unshift(p);
    if (dirname(p) === p) return chain;
  }
}

function statOrUndefined(root: string, path: string, stat: (path: string) => Stats): Stats | undefined {
  try {
    return stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unusable(root, `cannot inspect ${path}`, err);
  }
}

function fsType(root: string, path: string): number {
  try {
    // f_type is a signed long: on 32-bit hosts the magic comes back negative.
    return statfsSync(path).type >>> 0;
  } catch (err) {
    throw unusable(root, `cannot statfs ${path}`, err);
  }
}

function create(root: string, dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    // Someone created it between our look and our mkdir: it is checked like any existing directory.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw unusable(root, `cannot create ${dir}`, err);
  }
}

function assertMount(root: string, mount: string, st: Stats, uid: number): void {
  const othersWrite = (st.mode & 0o022) !== 0;
  const stickyRoot = st.uid === 0 && (st.mode & 0o1000) !== 0;
  if ((st.uid !== 0 && st.uid !== uid) || (othersWrite && !stickyRoot)) {
    throw unsafe(
      root,
      `the bpffs mount ${mount} is owned by uid ${st.uid} with mode ${modeOf(st)}, writable by others without ` +
        `being a root-owned sticky directory; remount it: umount ${mount} && mount -t bpf -o mode=0700 bpffs ${mount}`,
      undefined,
    );
  }
}

/** A bpffs of the agent's own as the pin root (`mount -t bpf -o mode=0700 bpffs /run/bpfleet`). */
function assertOwnMount(root: string, st: Stats, uid: number): void {
  if (st.uid === uid && (st.mode & 0o022) === 0) return;
  throw unsafe(
    root,
    `is a bpffs mount owned by uid ${st.uid} with mode ${modeOf(st)}, writable by others; use a directory ` +
      `below it (the default is /sys/fs/bpf/bpfleet) or mount it with -o mode=0700`,
    undefined,
  );
}

function assertOwned(root: string, dir: string, uid: number, isRoot: boolean): void {
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw unsafe(root, `${describe(dir, root)} is not a directory (${kindOf(st)})`, dir);
  const owners = isRoot ? [uid] : [uid, 0];
  const othersWrite = (st.mode & 0o022) !== 0;
  if (owners.includes(st.uid) && !othersWrite) return;
  throw unsafe(
    root,
    `${describe(dir, root)} is owned by uid ${st.uid} with mode ${modeOf(st)}; it must belong to ` +
      `${isRoot ? `this agent (uid ${uid})` : `root or this agent (uid ${uid})`} and be writable by nobody else`,
    dir,
  );
}

/** What already is in the pin root must be the agent's: another user's pin could stand in for a link. */
function assertContents(root: string, uid: number): void {
  let seen = 0;
  const walk = (dir: string, depth: number): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const st = lstatSync(path);
      if (++seen > MAX_ENTRIES) throw unsafe(root, `holds more than ${MAX_ENTRIES} entries`, undefined);
      const foreign = st.uid !== uid || (st.mode & 0o022) !== 0;
      if (foreign || !(st.isDirectory() || st.isFile())) {
        throw unsafe(root, `holds ${path} (${kindOf(st)}, uid ${st.uid}, mode ${modeOf(st)})`, root);
      }
      if (st.isDirectory()) {
        if (depth >= MAX_DEPTH)
          throw unsafe(root, `holds ${path} deeper than the agent nests its pins`, root);
        walk(path, depth + 1);
      }
    }
  };
  walk(root, 1);
}

function describe(dir: string, root: string): string {
  return dir === root ? 'it' : `its parent ${dir}`;
}

function modeOf(st: Stats): string {
  return (st.mode & 0o7777).toString(8).padStart(4, '0');
}

function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symlink';
  if (st.isDirectory()) return 'a directory';
  if (st.isFile()) return 'a pin';
  return 'a special file';
}

function notBpffs(root: string, on: string): PinRootError {
  const type = fsType(root, on);
  const name = FS_NAMES[type] ?? `filesystem type 0x${type.toString(16)}`;
  const target = root.startsWith('/sys/fs/bpf/') ? '/sys/fs/bpf' : dirname(root);
  const hint =
    type === 0x62656572
      ? ' (`ip netns exec` remounts /sys and hides bpffs: start the agent with nsenter --net=/run/netns/NAME instead)'
      : '';
  return new PinRootError(
    'PIN_ROOT_NOT_BPFFS',
    `pinRoot ${root} is not on a bpf filesystem (${on} is ${name}): mount -t bpf bpffs ${target}${hint}`,
  );
}

function unsafe(root: string, what: string, remove: string | undefined): PinRootError {
  const fix = remove
    ? `: another user may have made it to delete or replace the agent's pins; check it, remove it ` +
      `(rm -r ${remove}) and start the agent again`
    : '';
  return new PinRootError('PIN_ROOT_UNSAFE', `pinRoot ${root}: ${what}${fix}`);
}

function unusable(root: string, what: string, cause: unknown): PinRootError {
  return new PinRootError('PIN_ROOT_UNUSABLE', `pinRoot ${root}: ${what}: ${errorMessage(cause)}`, { cause });
}
