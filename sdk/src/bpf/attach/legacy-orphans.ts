// A legacy attachment nobody pinned (a crash between attach and pin): found on its hook by program id and removed.
import { BpfError } from '../../errors.js';
import { closeFd, errnoName } from '../internal/fd.js';
import { libbpf, progQuery, xdpDetach, xdpQuery } from '../internal/libbpf.js';
import { withCgroup } from './legacy-cgroup.js';
import type { AttachTarget } from './target.js';

const SKB = 1 << 1;
const DRV = 1 << 2;
const MAX_ATTACH_TYPE = 63;

/**
 * Takes program `programId` off `target` where the legacy forms put it (the XDP slot of the interface, any cgroup
 * attach type of the directory); true when it was there. Nothing else is touched: a kernel link on the hook, or
 * another program, stays. A link-attached program needs no such cleanup: its link went with the process.
 */
export function detachOrphan(target: AttachTarget, programId: number): boolean {
  if (target.kind !== 'xdp' && target.kind !== 'cgroup') return false;
  const fd = libbpf.progGetFdById(programId);
  if (fd < 0) return false; // Unloaded: on no hook.
  try {
    if (target.kind === 'xdp') {
      const ifindex =
        typeof target.interface === 'number' ? target.interface : libbpf.ifNameToIndex(target.interface);
      if (ifindex === 0) return false;
      const q = xdpQuery(ifindex);
      const mode = q.drvProgId === programId ? DRV : q.skbProgId === programId ? SKB : 0;
      if (mode === 0) return false;
      return check(xdpDetach(ifindex, mode, fd), `xdp program ${programId} on ${target.interface}`);
    }
    let found = false;
    for (let t = 0; t <= MAX_ATTACH_TYPE; t++) {
      if (!libbpf.attachTypeStr(t)?.startsWith('cgroup_')) continue;
      const rc = withCgroup(target.path, (cg) =>
        progQuery(cg, t).ids.includes(programId) ? libbpf.progDetach2(fd, cg, t) : 1,
      );
      if (rc !== undefined && rc !== 1)
        found = check(rc, `cgroup program ${programId} on ${target.path}`) || found;
    }
    return found;
  } finally {
    closeFd(fd);
  }
}

function check(rc: number, what: string): boolean {
  if (rc < 0) throw new BpfError(`DETACH_${errnoName(rc)}`, `detach ${what}: ${errnoName(rc)}`);
  return true;
}
