// checkRequires: compares a manifest's `requires` with a host probe and lists every unmet requirement.
import type { Arch, Capability, HostProbe } from './probe.js';

/** Structurally the manifest's `requires` (the manifest module owns the schema). */
export interface HostRequirements {
  arches: Arch[];
  /** Minimum kernel, e.g. "5.15". */
  kernel?: string;
  btf?: boolean;
  programTypes?: string[];
  mapTypes?: string[];
  helpers?: string[];
  capabilities?: Capability[];
}

export type UnmetKind =
  | 'arch'
  | 'kernel'
  | 'btf'
  | 'programType'
  | 'attachType'
  | 'mapType'
  | 'helper'
  | 'capability';

export interface Unmet {
  readonly kind: UnmetKind;
  /** What was required (`5.15`, `xdp`, `bpf_ktime_get_ns`, `CAP_BPF`). */
  readonly required: string;
  /** What the host has, in the same words. */
  readonly found: string;
  readonly message: string;
}

/** `6.18.44-fc-v657` → [6, 18, 44]; missing parts count as 0. */
export function parseKernelVersion(text: string): [number, number, number] {
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text.trim());
  if (!m) return [0, 0, 0];
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

export function compareKernel(a: string, b: string): number {
  const [x, y] = [parseKernelVersion(a), parseKernelVersion(b)];
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

function unmet(kind: UnmetKind, required: string, found: string, message: string): Unmet {
  return { kind, required, found, message };
}

/** Why `name` is missing from `supported`: the probe's reason, or that this libbpf does not know the name. */
function why(name: string, reasons: Readonly<Record<string, string>>, libbpfVersion: string): string {
  return reasons[name] ?? `unknown to libbpf ${libbpfVersion}`;
}

/** Every unmet requirement; each `message` reads after "host lacks " (the agent joins them with "; "). */
export function checkRequires(requires: HostRequirements, probe: HostProbe): Unmet[] {
  const out: Unmet[] = [];
  if (requires.arches.length > 0 && !requires.arches.includes(probe.arch as Arch)) {
    const wanted =
      requires.arches.length === 1
        ? `arch ${requires.arches[0]}`
        : `one of arches ${requires.arches.join(', ')}`;
    out.push(unmet('arch', requires.arches.join('|'), probe.arch, `${wanted} (this host is ${probe.arch})`));
  }
  if (requires.kernel && compareKernel(probe.kernelRelease, requires.kernel) < 0) {
    out.push(
      unmet(
        'kernel',
        requires.kernel,
        probe.kernelRelease,
        `kernel ${requires.kernel} or newer (this host runs ${probe.kernelRelease})`,
      ),
    );
  }
  if (requires.btf && !probe.btf) {
    out.push(unmet('btf', 'true', 'false', 'kernel BTF (/sys/kernel/btf/vmlinux is missing)'));
  }
  for (const t of requires.programTypes ?? []) {
    if (!probe.programTypes.includes(t)) {
      const reason = why(t, probe.unsupported.programTypes, probe.libbpf);
      out.push(unmet('programType', t, 'absent', `program type ${t} (${reason})`));
    }
  }
  for (const t of requires.mapTypes ?? []) {
    if (!probe.mapTypes.includes(t)) {
      const reason = why(t, probe.unsupported.mapTypes, probe.libbpf);
      out.push(unmet('mapType', t, 'absent', `map type ${t} (${reason})`));
    }
  }
  // A helper must be callable from at least one of the program types the package uses.
  const types = (requires.programTypes ?? []).filter((t) => probe.programTypes.includes(t));
  const probeTypes = types.length > 0 ? types : ['socket_filter'];
  for (const h of requires.helpers ?? []) {
    const answers = probeTypes.map((t) => probe.supportsHelper(h, t));
    if (answers.every((a) => a === undefined)) {
      out.push(unmet('helper', h, 'unknown', `helper ${h} (unknown to this loader)`));
    } else if (!answers.some((a) => a === true)) {
      out.push(unmet('helper', h, 'absent', `helper ${h} for ${probeTypes.join(' or ')} programs`));
    }
  }
  for (const c of requires.capabilities ?? []) {
    if (!probe.capabilities.includes(c))
      out.push(unmet('capability', c, 'absent', `capability ${c} (not in the agent's effective set)`));
  }
  return out;
}
