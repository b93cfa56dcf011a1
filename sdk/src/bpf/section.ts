// Derives where a program attaches from its SEC() name, the single source of the attach type.

/** How a program attaches: the attach function a `Program` uses when no target overrides it. */
export type AttachKind = 'xdp' | 'tcx' | 'tc' | 'cgroup' | 'tracing' | 'kprobe' | 'uprobe' | 'unknown';
export type Direction = 'ingress' | 'egress';

export interface SectionInfo {
  kind: AttachKind;
  direction?: Direction;
  /** A libbpf 1.1 program type to force for SEC names that libbpf 1.1 does not know (tcx/*). */
  forceType?: number;
}

const SCHED_CLS = 3;
const CGROUP_TYPES = new Set([
  'cgroup_skb',
  'cgroup_sock',
  'cgroup_sock_addr',
  'sock_ops',
  'cgroup_device',
  'cgroup_sysctl',
  'cgroup_sockopt',
]);

export function sectionInfo(section: string, progType: string): SectionInfo {
  if (section === 'tcx/ingress' || section === 'tcx/egress') {
    return { kind: 'tcx', direction: section === 'tcx/ingress' ? 'ingress' : 'egress', forceType: SCHED_CLS };
  }
  if (progType === 'xdp') return { kind: 'xdp' };
  if (progType === 'sched_cls') {
    if (section.endsWith('ingress')) return { kind: 'tcx', direction: 'ingress' };
    if (section.endsWith('egress')) return { kind: 'tcx', direction: 'egress' };
    return { kind: 'tcx' };
  }
  if (CGROUP_TYPES.has(progType)) {
    if (section.endsWith('/ingress')) return { kind: 'cgroup', direction: 'ingress' };
    if (section.endsWith('/egress')) return { kind: 'cgroup', direction: 'egress' };
    return { kind: 'cgroup' };
  }
  if (progType === 'kprobe') return { kind: /^u(ret)?probe/.test(section) ? 'uprobe' : 'kprobe' };
  if (['tracing', 'raw_tracepoint', 'tracepoint', 'lsm', 'perf_event'].includes(progType))
    return { kind: 'tracing' };
  return { kind: 'unknown' };
}
