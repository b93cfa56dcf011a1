// What an upgrade does per program: swap it in its link, attach it new, or remove it (the set may change).
import type { AttachTarget, PinnableLink } from '@bpfleet/sdk/bpf';
import type { VersionMeta } from './deployment-meta.js';

export interface ProgramSetPlan {
  /** In both versions on the same hook: the new program goes into the existing link (BPF_LINK_UPDATE). */
  swap: string[];
  /** New programs, or programs whose link cannot be updated or moves: attached before anything old goes. */
  add: string[];
  /** Links of the old version that no new program takes over: removed after the swap. */
  gone: string[];
}

export function planProgramSet(
  old: VersionMeta,
  links: ReadonlyMap<string, PinnableLink>,
  targets: Record<string, AttachTarget>,
): ProgramSetPlan {
  const swap = Object.keys(targets).filter((name) => {
    if (!links.has(name)) return false;
    const before = old.targets?.[name];
    // Records from before targets were kept: the same program name was on the same hook.
    return (
      updatable(targets[name] as AttachTarget) && (!before || sameHook(before, targets[name] as AttachTarget))
    );
  });
  return {
    swap,
    add: Object.keys(targets).filter((name) => !swap.includes(name)),
    gone: [...links.keys()].filter((name) => !swap.includes(name)),
  };
}

/** Tracing and perf-event links refuse BPF_LINK_UPDATE: a new link runs beside the old one, then the old goes. */
function updatable(target: AttachTarget): boolean {
  return target.kind === 'xdp' || target.kind === 'tcx' || target.kind === 'cgroup';
}

export function sameHook(a: AttachTarget, b: AttachTarget): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'xdp':
      return b.kind === 'xdp' && String(a.interface) === String(b.interface);
    case 'tcx':
    case 'tc':
      return (
        (b.kind === 'tcx' || b.kind === 'tc') &&
        String(a.interface) === String(b.interface) &&
        a.direction === b.direction
      );
    case 'cgroup':
      return b.kind === 'cgroup' && a.path === b.path;
    case 'auto':
      return false;
  }
}
