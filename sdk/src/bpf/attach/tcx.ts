// tcx (kernel 6.6+): TC programs as kernel links, stackable, pinnable and atomically updatable.
import { BpfError, NotSupportedError } from '../../errors.js';
import { errnoName } from '../internal/fd.js';
import { linkCreate } from '../internal/libbpf.js';
import { FdLink, type ProgramRef } from '../link.js';
import type { Direction } from '../section.js';
import { ifindexOf } from './target.js';

// libbpf 1.1 predates tcx: the attach types come from the 6.6 uapi header.
const BPF_TCX_INGRESS = 46;
const BPF_TCX_EGRESS = 47;

export async function attachTcx(
  program: ProgramRef,
  iface: string | number,
  direction: Direction,
): Promise<FdLink> {
  const ifindex = ifindexOf(iface);
  const what = `tcx ${program.name} on ${iface} ${direction}`;
  const type = direction === 'ingress' ? BPF_TCX_INGRESS : BPF_TCX_EGRESS;
  const fd = await linkCreate(program.fd, ifindex, type);
  if (fd >= 0) return new FdLink(what, fd, null);
  if (-fd === 22) {
    throw new NotSupportedError(
      'TCX_UNSUPPORTED',
      `attach ${what}: EINVAL: this kernel has no tcx (6.6+); use tc`,
    );
  }
  throw new BpfError(`ATTACH_${errnoName(fd)}`, `attach ${what}: ${errnoName(fd)}`);
}
