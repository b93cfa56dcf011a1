// Classic TC through a clsact qdisc, for kernels before tcx; the filter is removed on close.
import { BpfError } from '../../errors.js';
import { errnoName } from '../internal/fd.js';
import { tcAttach, tcHookCreate } from '../internal/libbpf.js';
import { type ProgramRef, TcFilterLink } from '../link.js';
import type { Direction } from '../section.js';
import { ifindexOf } from './target.js';

const BPF_TC_INGRESS = 1;
const BPF_TC_EGRESS = 2;
const EEXIST = 17;

export async function attachTc(
  program: ProgramRef & { id: number },
  iface: string | number,
  direction: Direction,
): Promise<TcFilterLink> {
  const hook = {
    ifindex: ifindexOf(iface),
    attachPoint: direction === 'ingress' ? BPF_TC_INGRESS : BPF_TC_EGRESS,
  };
  const what = `tc ${program.name} on ${iface} ${direction}`;
  const created = tcHookCreate(hook);
  // The clsact qdisc is shared with other filters, so an existing one is fine and it is never destroyed here.
  if (created < 0 && -created !== EEXIST) {
    throw new BpfError(`ATTACH_${errnoName(created)}`, `attach ${what}: clsact: ${errnoName(created)}`);
  }
  const r = await tcAttach(hook, program.fd);
  if (r.rc < 0) throw new BpfError(`ATTACH_${errnoName(r.rc)}`, `attach ${what}: ${errnoName(r.rc)}`);
  return new TcFilterLink(what, hook, r.handle, r.priority, program.id);
}
