// Program: a loaded program of a collection; attaches where its SEC() name (or a target) says.
import { BpfError, NotSupportedError } from '../errors.js';
import { attachCgroup } from './attach/cgroup.js';
import type { AttachTarget } from './attach/target.js';
import { attachTc } from './attach/tc.js';
import { attachTcx } from './attach/tcx.js';
import { attachTracing } from './attach/tracing.js';
import { attachXdp } from './attach/xdp.js';
import type { ProgramSpec } from './collection-spec.js';
import { errnoName } from './internal/fd.js';
import { errno, libbpf, objInfo, type ProgramHandle } from './internal/libbpf.js';
import type { Link } from './link.js';

export class Program {
  readonly spec: ProgramSpec;
  readonly #handle: ProgramHandle;
  #closed = false;

  constructor(spec: ProgramSpec, handle: ProgramHandle) {
    this.spec = spec;
    this.#handle = handle;
  }

  get name(): string {
    return this.spec.name;
  }

  get fd(): number {
    if (this.#closed) throw new BpfError('CLOSED', `program ${this.name}: its collection is closed`);
    return libbpf.programFd(this.#handle);
  }

  /** The kernel's id for this program (what a link's `programId` refers to). */
  get id(): number {
    const { rc, info } = objInfo(this.fd, 256);
    if (rc < 0)
      throw new BpfError(
        `PROGRAM_${errnoName(errno())}`,
        `program ${this.name}: info: ${errnoName(errno())}`,
      );
    return new DataView(info.buffer).getUint32(4, true);
  }

  /** Attaches off the main thread. Without a target, the SEC() name decides (tracing kinds only). */
  async attach(target: AttachTarget = { kind: 'auto' }): Promise<Link> {
    const { spec } = this;
    const where = `attach ${spec.name} (${spec.section})`;
    switch (target.kind) {
      case 'xdp':
        return attachXdp(this, target.interface, target.mode);
      case 'tcx':
        return attachTcx(this, target.interface, this.#direction(target.direction, where));
      case 'tc':
        return attachTc(this, target.interface, this.#direction(target.direction, where));
      case 'cgroup':
        return attachCgroup(spec.name, this.#handle, target.path);
      case 'auto':
        if (spec.attach === 'tracing' || spec.attach === 'kprobe' || spec.attach === 'uprobe') {
          return attachTracing(spec.name, this.#handle, spec.section, spec.attach);
        }
        throw new NotSupportedError(
          'ATTACH_TARGET_REQUIRED',
          `${where}: a ${spec.attach} program needs a target (interface or cgroup path)`,
        );
    }
  }

  /** Called by the collection when it closes the object that owns the fd. */
  markClosed(): void {
    this.#closed = true;
  }

  #direction(given: 'ingress' | 'egress' | undefined, where: string): 'ingress' | 'egress' {
    const direction = given ?? this.spec.direction;
    if (!direction) throw new BpfError('ATTACH_DIRECTION', `${where}: say ingress or egress`);
    return direction;
  }
}
