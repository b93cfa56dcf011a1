// cgroup programs (cgroup_skb, sock_addr, sockops, …) through a kernel link on a cgroup v2 directory, or
// BPF_PROG_ATTACH where the kernel has no cgroup links.
import { constants, openSync } from 'node:fs';
import { BpfError } from '../../errors.js';
import { closeFd, errnoName } from '../internal/fd.js';
import { attachCgroup as attachCgroupLink, libbpf, type ProgramHandle } from '../internal/libbpf.js';
import { attachForm } from '../internal/link-support.js';
import { FdLink } from '../link.js';
import { attachCgroupLegacy, type LegacyCgroupLink } from './legacy-cgroup.js';

export async function attachCgroup(
  name: string,
  prog: ProgramHandle,
  path: string,
): Promise<FdLink | LegacyCgroupLink> {
  if ((await attachForm('cgroup')) === 'legacy') {
    return attachCgroupLegacy({ name, fd: libbpf.programFd(prog) }, libbpf.programAttachType(prog), path);
  }
  const what = `cgroup ${name} on ${path}`;
  let cgroupFd: number;
  try {
    cgroupFd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (err) {
    throw new BpfError('CGROUP_OPEN', `attach ${what}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const r = await attachCgroupLink(prog, cgroupFd);
    if (!r.link) throw new BpfError(`ATTACH_${errnoName(r.errno)}`, `attach ${what}: ${errnoName(r.errno)}`);
    return new FdLink(what, libbpf.linkFd(r.link), r.link);
  } finally {
    closeFd(cgroupFd); // The link holds its own reference to the cgroup.
  }
}
