// cgroup programs through BPF_PROG_ATTACH with BPF_F_ALLOW_MULTI, for kernels without cgroup links (< 5.7).
import { constants, openSync, statSync } from 'node:fs';
import { BpfError } from '../../errors.js';
import { closeFd, errnoName } from '../internal/fd.js';
import { libbpf, progAttach, progQuery } from '../internal/libbpf.js';
import type { LinkInfo, ProgramRef } from '../link.js';
import { dupProgramFd, type HookView, LegacyLink, programIdOf } from './legacy-link.js';

const BPF_F_ALLOW_MULTI = 1 << 1;
const BPF_F_REPLACE = 1 << 2;
/** Highest attach type probed when a restarted agent looks for its program on a cgroup. */
const MAX_ATTACH_TYPE = 63;

export class LegacyCgroupLink extends LegacyLink {
  protected readonly type = 'cgroup';
  readonly path: string;
  readonly attachType: number;
  readonly #cgroupId: bigint;

  constructor(description: string, ownFd: number, path: string, attachType: number, pinnedAt?: string) {
    super(description, ownFd, pinnedAt);
    this.path = path;
    this.attachType = attachType;
    this.#cgroupId = statSync(path, { bigint: true, throwIfNoEntry: false })?.ino ?? 0n;
  }

  protected observe(ownId: number): HookView {
    if (this.attachType < 0) return { attached: false, programId: 0 };
    const ids = withCgroup(this.path, (fd) => progQuery(fd, this.attachType).ids) ?? [];
    // A cgroup removed and made again at the same path is another cgroup: not where we attached.
    const same = statSync(this.path, { bigint: true, throwIfNoEntry: false })?.ino === this.#cgroupId;
    return { attached: same && ids.includes(ownId), programId: ownId };
  }

  protected location(attached: boolean): Partial<LinkInfo> {
    return { cgroupId: attached ? this.#cgroupId : 0n };
  }

  protected swap(newFd: number, oldFd: number): number {
    const flags = BPF_F_ALLOW_MULTI | BPF_F_REPLACE;
    return withCgroup(this.path, (fd) => progAttach(newFd, fd, this.attachType, flags, oldFd)) ?? -2;
  }

  protected unhook(ownFd: number): number {
    if (this.attachType < 0) return -2;
    return withCgroup(this.path, (fd) => libbpf.progDetach2(ownFd, fd, this.attachType)) ?? -2;
  }
}

/** Runs `fn` with the cgroup directory open; undefined when it is gone. */
export function withCgroup<T>(path: string, fn: (fd: number) => T): T | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch {
    return undefined;
  }
  try {
    return fn(fd);
  } finally {
    closeFd(fd);
  }
}

export function attachCgroupLegacy(program: ProgramRef, attachType: number, path: string): LegacyCgroupLink {
  const what = `cgroup ${program.name} on ${path} (BPF_PROG_ATTACH)`;
  const rc = withCgroup(path, (fd) => progAttach(program.fd, fd, attachType, BPF_F_ALLOW_MULTI));
  if (rc === undefined) throw new BpfError('CGROUP_OPEN', `attach ${what}: cannot open ${path}`);
  if (rc < 0) throw new BpfError(`ATTACH_${errnoName(rc)}`, `attach ${what}: ${errnoName(rc)}`);
  let own = -1;
  try {
    own = dupProgramFd(program.fd, `attach ${what}`);
    return new LegacyCgroupLink(what, own, path, attachType);
  } catch (err) {
    // Nothing holds the attachment but the hook: it must not stay behind a failed attach.
    closeFd(own);
    withCgroup(path, (fd) => libbpf.progDetach2(program.fd, fd, attachType));
    throw err;
  }
}

/** Our pinned program on cgroup `path` after a restart: its attach type is the one whose list holds it. */
export function adoptCgroupLegacy(path: string, pin: string, ownFd: number): LegacyCgroupLink {
  try {
    const id = programIdOf(ownFd);
    let found = -1;
    for (let t = 0; t <= MAX_ATTACH_TYPE && found < 0; t++) {
      if (!libbpf.attachTypeStr(t)?.startsWith('cgroup_')) continue;
      if (withCgroup(path, (fd) => progQuery(fd, t).ids.includes(id))) found = t;
    }
    return new LegacyCgroupLink(`cgroup on ${path} (BPF_PROG_ATTACH) from ${pin}`, ownFd, path, found, pin);
  } catch (err) {
    closeFd(ownFd);
    throw err;
  }
}
