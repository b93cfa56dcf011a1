// Attach targets: where a program goes, in the words of the manifest (interface, direction, cgroup path).
import { NotSupportedError } from '../../errors.js';
import { errnoName } from '../internal/fd.js';
import { errno, libbpf } from '../internal/libbpf.js';
import type { Direction } from '../section.js';

export type XdpMode = 'auto' | 'driver' | 'generic';

export type AttachTarget =
  | { kind: 'xdp'; interface: string | number; mode?: XdpMode }
  | { kind: 'tcx'; interface: string | number; direction?: Direction }
  | { kind: 'tc'; interface: string | number; direction?: Direction }
  | { kind: 'cgroup'; path: string }
  | { kind: 'auto' };

/** Resolves an interface name in this process's network namespace. */
export function ifindexOf(iface: string | number): number {
  if (typeof iface === 'number') return iface;
  const index = libbpf.ifNameToIndex(iface);
  if (index === 0) {
    throw new NotSupportedError('NO_SUCH_INTERFACE', `interface ${iface}: not found (${errnoName(errno())})`);
  }
  return index;
}

/** The interface's current index in this process's network namespace, 0 when there is none by that name. */
export function interfaceIndex(name: string): number {
  return libbpf.ifNameToIndex(name);
}
