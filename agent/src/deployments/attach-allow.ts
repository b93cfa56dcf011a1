// The device owner's allow-list, applied to the final attach target (after manifest defaults): default deny.
import type { AttachTarget } from '@bpfleet/sdk/bpf';
import { BpfError } from '@bpfleet/sdk/errors';

export interface AttachAllow {
  interfaces: string[];
  /** Cgroup paths relative to the cgroup2 mount; `/` (the root, hence every cgroup) only when listed. */
  cgroups: string[];
}

/** Throws ATTACH_NOT_ALLOWED when `target` is outside the allow-list; tracing programs have no target to check. */
export function assertAllowed(
  where: string,
  target: AttachTarget,
  allow: AttachAllow,
  cgroupRoot: string,
): void {
  switch (target.kind) {
    case 'xdp':
    case 'tcx':
    case 'tc':
      if (!allow.interfaces.includes(String(target.interface))) {
        throw new BpfError(
          'ATTACH_NOT_ALLOWED',
          `${where} would attach to interface ${target.interface}, which is not in this device's allow.interfaces`,
        );
      }
      return;
    case 'cgroup': {
      const path = relativeCgroup(target.path, cgroupRoot);
      if (!allow.cgroups.some((c) => cgroupUnder(path, c))) {
        throw new BpfError(
          'ATTACH_NOT_ALLOWED',
          `${where} would attach to cgroup ${path}, which is not under this device's allow.cgroups`,
        );
      }
      return;
    }
    case 'auto':
      return;
  }
}

/** `/sys/fs/cgroup/lab/a` → `/lab/a`; the root itself → `/`. */
export function relativeCgroup(path: string, cgroupRoot: string): string {
  const root = cgroupRoot.replace(/\/+$/, '');
  const rel = path.startsWith(`${root}/`) || path === root ? path.slice(root.length) : path;
  return `/${rel
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/')}`;
}

function cgroupUnder(path: string, allowed: string): boolean {
  if (path.split('/').includes('..')) return false;
  const a = `/${allowed
    .split('/')
    .filter((s) => s !== '')
    .join('/')}`;
  if (a === '/') return true;
  return path === a || path.startsWith(`${a}/`);
}
