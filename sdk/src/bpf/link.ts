// Link: a program attached somewhere; pin, unpin, atomic program update, detach, adopt a pinned one.
import { unlinkSync } from 'node:fs';
import { BpfError, NotSupportedError } from '../errors.js';
import { closeFd, errnoName } from './internal/fd.js';
import {
  errno,
  type LinkHandle,
  libbpf,
  linkUpdate,
  objInfo,
  type TcHook,
  tcDetach,
} from './internal/libbpf.js';
import { decodeLinkInfo, LINK_INFO_SIZE } from './internal/link-info.js';

const EINVAL = 22;
const EOPNOTSUPP = 95;

// Link types newer than libbpf 1.1's name table (uapi enum bpf_link_type).
const NEWER_LINK_TYPES: Record<number, string> = {
  10: 'netfilter',
  11: 'tcx',
  12: 'uprobe_multi',
  13: 'netkit',
  14: 'sockmap',
};

export function linkTypeName(type: number): string {
  const known = libbpf.linkTypeStr(type);
  return known && known !== 'unspec' ? known : (NEWER_LINK_TYPES[type] ?? `link type ${type}`);
}

/** Anything with a program fd can be swapped into a link. */
export interface ProgramRef {
  readonly name: string;
  readonly fd: number;
}

export interface LinkInfo {
  /** libbpf's link type name (`xdp`, `tcx`, `cgroup`, `tracing`, `raw_tracepoint`, `perf_event`, …). */
  readonly type: string;
  readonly id: number;
  readonly programId: number;
  /** xdp and tcx links: the interface index, 0 when the kernel detached the link (e.g. the interface went). */
  readonly ifindex?: number;
  /** cgroup links: the cgroup id (the cgroup directory's inode number), 0 when detached. */
  readonly cgroupId?: bigint;
}

export interface Link {
  readonly description: string;
  /** The kernel link fd; legacy TC filters have none (-1). */
  readonly fd: number;
  info(): LinkInfo;
  pin(path: string): void;
  unpin(): void;
  /** Swaps the program atomically (BPF_LINK_UPDATE): no packet sees no program. */
  update(program: ProgramRef): void;
  /** Detaches in the kernel even when pinned; the link object stays until `close`. */
  detach(): void;
  /** Releases this process's handle; a pinned link keeps running. */
  close(): void;
}

/** A link that can be pinned, checked, swapped and taken out of the kernel: a bpf_link or a legacy attachment. */
export interface PinnableLink extends Link {
  readonly pinnedAt: string | undefined;
  /** Detaches (only what this link attached), unpins and closes, whatever fails on the way. */
  remove(): void;
}

/** A kernel bpf_link, created by libbpf (handle) or by bpf_link_create (bare fd). */
export class FdLink implements PinnableLink {
  readonly description: string;
  #fd: number;
  #handle: LinkHandle | null;
  #pinnedAt: string | undefined;

  constructor(description: string, fd: number, handle: LinkHandle | null, pinnedAt?: string) {
    this.description = description;
    this.#fd = fd;
    this.#handle = handle;
    this.#pinnedAt = pinnedAt;
  }

  get fd(): number {
    if (this.#fd < 0) throw new BpfError('CLOSED', `link ${this.description}: already closed`);
    return this.#fd;
  }

  get pinnedAt(): string | undefined {
    return this.#pinnedAt;
  }

  info(): LinkInfo {
    const { rc, info } = objInfo(this.fd, LINK_INFO_SIZE);
    if (rc < 0) throw this.#error('info', errno());
    const { type, attachType: _, ...rest } = decodeLinkInfo(info);
    return { ...rest, type: type === 0 ? 'unspec' : linkTypeName(type) };
  }

  /** Pins the link's fd itself, so a pin deleted behind our back can be put back from the fd this process holds. */
  pin(path: string): void {
    if (libbpf.objPin(this.fd, path) < 0) throw this.#error(`pin ${path}`, errno());
    this.#pinnedAt = path;
  }

  unpin(): void {
    if (!this.#pinnedAt) return;
    try {
      unlinkSync(this.#pinnedAt);
    } catch (err) {
      // Already gone (someone deleted the pin): unpinned is what was asked for.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.#pinnedAt = undefined;
  }

  update(program: ProgramRef): void {
    if (linkUpdate(this.fd, program.fd) < 0) throw this.#error(`update to ${program.name}`, errno());
  }

  detach(): void {
    if (libbpf.linkDetach(this.fd) < 0) throw this.#error('detach', errno());
  }

  close(): void {
    if (this.#fd < 0) return;
    // bpf_link__destroy only closes fds for fd-based links (perf links also close their perf event).
    if (this.#handle) libbpf.linkDestroy(this.#handle);
    else closeFd(this.#fd);
    this.#handle = null;
    this.#fd = -1;
  }

  /**
   * Takes the link out of the kernel, always: detaches where the link type can, unpins and closes. Tracing and
   * perf-event links cannot be detached (EOPNOTSUPP); for them closing the last reference (fd and pin) destroys
   * the link. A detach failing otherwise is thrown after the fd is closed and the pin removed.
   */
  remove(): void {
    let failure: BpfError | undefined;
    if (this.#fd >= 0 && libbpf.linkDetach(this.#fd) < 0) {
      const e = errno();
      if (e !== EOPNOTSUPP && e !== EINVAL) failure = this.#error('detach', e);
    }
    try {
      this.unpin();
    } finally {
      this.close();
    }
    if (failure) throw failure;
  }

  #error(op: string, e: number): BpfError {
    return new BpfError(`LINK_${errnoName(e)}`, `link ${this.description}: ${op}: ${errnoName(e)}`);
  }
}

/** Adopts a link pinned by another process (e.g. the agent before a restart). */
export function openPinnedLink(path: string): FdLink {
  const handle = libbpf.linkOpen(path);
  if (!handle) {
    const e = errno();
    throw new BpfError(`PIN_${errnoName(e)}`, `open pinned link ${path}: ${errnoName(e)}`);
  }
  const link = new FdLink(path, libbpf.linkFd(handle), handle, path);
  try {
    link.info(); // A pinned map or program at that path is not a link.
  } catch (err) {
    link.close();
    throw err;
  }
  return link;
}

/** A classic TC (clsact) filter: not a kernel link, so it cannot be pinned or updated. */
export class TcFilterLink implements Link {
  readonly description: string;
  readonly fd = -1;
  readonly #hook: TcHook;
  readonly #handle: number;
  readonly #priority: number;
  readonly #programId: number;
  #attached = true;

  constructor(description: string, hook: TcHook, handle: number, priority: number, programId: number) {
    this.description = description;
    this.#hook = hook;
    this.#handle = handle;
    this.#priority = priority;
    this.#programId = programId;
  }

  info(): LinkInfo {
    return { type: 'tc', id: 0, programId: this.#programId };
  }

  pin(): void {
    throw new NotSupportedError(
      'LINK_NOT_PINNABLE',
      `link ${this.description}: classic TC filters cannot be pinned`,
    );
  }

  unpin(): void {}

  update(): void {
    throw new NotSupportedError(
      'LINK_NOT_UPDATABLE',
      `link ${this.description}: classic TC filters cannot be swapped atomically; use tcx (kernel 6.6+)`,
    );
  }

  detach(): void {
    if (!this.#attached) return;
    const rc = tcDetach(this.#hook, this.#handle, this.#priority);
    if (rc < 0 && -rc !== 2)
      throw new BpfError(`LINK_${errnoName(rc)}`, `link ${this.description}: detach: ${errnoName(rc)}`);
    this.#attached = false;
  }

  close(): void {
    // A TC filter has no fd: closing the handle means removing the filter.
    this.detach();
  }
}
