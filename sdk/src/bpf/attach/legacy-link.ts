// Attachments from before bpf_link (netlink XDP, BPF_PROG_ATTACH cgroups): held and pinned by their program.
import { renameSync, unlinkSync } from 'node:fs';
import { BpfError } from '../../errors.js';
import { closeFd, errnoName } from '../internal/fd.js';
import { dupFd, errno, libbpf, objInfo } from '../internal/libbpf.js';
import type { LinkInfo, PinnableLink, ProgramRef } from '../link.js';

/** What the hook shows now: whether our program is on it, and the program it runs in our place. */
export interface HookView {
  attached: boolean;
  programId: number;
}

/** The kernel's id of the program behind `fd`. */
export function programIdOf(fd: number): number {
  const { rc, info } = objInfo(fd, 256);
  if (rc < 0)
    throw new BpfError(`PROGRAM_${errnoName(errno())}`, `program fd ${fd}: info: ${errnoName(errno())}`);
  return new DataView(info.buffer).getUint32(4, true);
}

/** This process's own fd of the program behind `fd` (the caller closes it). */
export function dupProgramFd(fd: number, what: string): number {
  const own = dupFd(fd);
  if (own < 0) throw new BpfError(`PROGRAM_${errnoName(own)}`, `${what}: dup program fd: ${errnoName(own)}`);
  return own;
}

/** A new fd of program `id` (the caller closes it); the kernel asks CAP_SYS_ADMIN for it. */
export function programFdOf(id: number, what: string): number {
  const fd = libbpf.progGetFdById(id);
  if (fd < 0) throw new BpfError(`PROGRAM_${errnoName(fd)}`, `${what}: program ${id}: ${errnoName(fd)}`);
  return fd;
}

/**
 * There is no link object: the hook holds the program, and this object holds its own fd of that program (what
 * it pins, so a restarted agent knows its own program on the hook by id). Like a kernel link, once seen
 * detached it stays detached: a later `remove` must not take off a successor attached with the same program.
 */
export abstract class LegacyLink implements PinnableLink {
  readonly description: string;
  #fd: number;
  #programId: number;
  #pinnedAt: string | undefined;
  #detached = false;

  protected constructor(description: string, ownFd: number, pinnedAt?: string) {
    this.description = description;
    this.#fd = ownFd;
    this.#programId = programIdOf(ownFd);
    this.#pinnedAt = pinnedAt;
  }

  /** The program's fd: a legacy attachment has no fd of its own. */
  get fd(): number {
    if (this.#fd < 0) throw new BpfError('CLOSED', `link ${this.description}: already closed`);
    return this.#fd;
  }

  get pinnedAt(): string | undefined {
    return this.#pinnedAt;
  }

  protected abstract readonly type: string;
  /** The hook as the kernel shows it now. */
  protected abstract observe(ownId: number): HookView;
  /** Where the attachment is (ifindex or cgroup id), or the zero value once detached. */
  protected abstract location(attached: boolean): Partial<LinkInfo>;
  /** Puts `newFd` in the place of exactly `oldFd` on the hook, atomically; returns the negative errno. */
  protected abstract swap(newFd: number, oldFd: number): number;
  /** Takes exactly our program (`ownFd`) off the hook; returns the negative errno. */
  protected abstract unhook(ownFd: number): number;

  info(): LinkInfo {
    if (!this.#detached) {
      const view = this.observe(this.#programId);
      if (view.attached) return { type: this.type, id: 0, programId: view.programId, ...this.location(true) };
      this.#detached = true;
    }
    return { type: this.type, id: 0, programId: this.#programId, ...this.location(false) };
  }

  pin(path: string): void {
    if (libbpf.objPin(this.fd, path) < 0) throw this.#error(`pin ${path}`, errno());
    this.#pinnedAt = path;
  }

  unpin(): void {
    if (!this.#pinnedAt) return;
    try {
      unlinkSync(this.#pinnedAt);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.#pinnedAt = undefined;
  }

  /** Swaps in `program` where the hook runs ours (or what replaced ours), atomically; the pin follows. */
  update(program: ProgramRef): void {
    const view = this.#detached ? undefined : this.observe(this.#programId);
    if (!view?.attached) {
      this.#detached = true;
      throw new BpfError('LINK_ENOLINK', `link ${this.description}: update to ${program.name}: detached`);
    }
    const foreign = view.programId !== this.#programId;
    const oldFd = foreign ? programFdOf(view.programId, `link ${this.description}`) : this.fd;
    try {
      const rc = this.swap(program.fd, oldFd);
      if (rc < 0) throw this.#error(`update to ${program.name}`, rc);
    } finally {
      if (foreign) closeFd(oldFd);
    }
    const id = programIdOf(program.fd);
    const fresh = dupProgramFd(program.fd, `link ${this.description}`);
    closeFd(this.#fd);
    this.#fd = fresh;
    this.#programId = id;
    if (this.#pinnedAt) this.#repin(this.#pinnedAt);
  }

  detach(): void {
    if (this.#detached) return;
    const rc = this.unhook(this.fd);
    // ENOENT/EEXIST: our program is not (or no longer) there; the hook is not ours to clear.
    if (rc < 0 && ![2, 17].includes(-rc)) throw this.#error('detach', rc);
    this.#detached = true;
  }

  /** An unpinned attachment goes with its last handle, as a kernel link does; a pinned one keeps running. */
  close(): void {
    if (this.#fd < 0) return;
    try {
      if (!this.#pinnedAt) this.detach();
    } finally {
      closeFd(this.#fd);
      this.#fd = -1;
    }
  }

  remove(): void {
    try {
      if (this.#fd >= 0) this.detach();
    } finally {
      try {
        this.unpin();
      } finally {
        this.close();
      }
    }
  }

  /** The pin names the new program from one rename to the next: a crash leaves one or the other, never none. */
  #repin(path: string): void {
    // bpffs refuses dots in names; a program name (a C identifier) never has a dash.
    const next = `${path}-next`;
    if (libbpf.objPin(this.#fd, next) < 0) throw this.#error(`pin ${next}`, errno());
    renameSync(next, path);
  }

  #error(op: string, e: number): BpfError {
    return new BpfError(`LINK_${errnoName(e)}`, `link ${this.description}: ${op}: ${errnoName(e)}`);
  }
}
