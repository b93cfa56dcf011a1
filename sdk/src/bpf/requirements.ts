// checkRequires: compares a manifest's `requires` with a host probe and lists every unmet requirement.
import type { Arch, Capability, HostProbe } from './probe.js';

/** Structurally the manifest's `requires` (the manifest module owns the schema). */
export interface HostRequirements {
  arches: Arch[];
  /** Minimum kernel, e.g. "5.15". */
  kernel?: string;
  /** `true`: kernel BTF; `"core"`: kernel BTF or the package's minimized BTF. */
  btf?: boolean | 'core';
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

/** The reason for a type name this libbpf has no number for (the probe cannot even ask the kernel). */
export function unknown(probe: HostProbe): string {
  return `unknown to libbpf ${probe.libbpf}`;
}

function unmet(kind: UnmetKind, required: string, found: string, message: string): Unmet {
  return { kind, required, found, message };
}

export interface CheckRequiresOptions {
  /** The package carries a minimized BTF for this host's arch (`bpf/<arch>/<name>.min.btf`). */
  packageBtf?: boolean;
}

/** The BTF a package's CO-RE relocations would use here: the kernel's first, else the package's own, else none. */
export function btfSource(
  requires: Pick<HostRequirements, 'btf'>,
  probe: Pick<HostProbe, 'btf'>,
  options: CheckRequiresOptions = {},
): 'kernel' | 'package' | 'none' {
  if (probe.btf) return 'kernel';
  return requires.btf === 'core' && options.packageBtf ? 'package' : 'none';
}

/** Every unmet requirement; each `message` reads after "host lacks " (the agent joins them with "; "). */
export function checkRequires(
  requires: HostRequirements,
  probe: HostProbe,
  options: CheckRequiresOptions = {},
): Unmet[] {
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
  if (requires.btf === true && !probe.btf) {
    out.push(unmet('btf', 'true', 'false', 'kernel BTF (/sys/kernel/btf/vmlinux is missing)'));
  }
  if (requires.btf === 'core' && btfSource(requires, probe, options) === 'none') {
    out.push(
      unmet(
        'btf',
        'core',
        'none',
        "kernel BTF or the package's minimized BTF for this arch (neither is there)",
      ),
    );
  }
  // Only the types asked for are probed (each once per process).
  for (const t of requires.programTypes ?? []) {
    const v = probe.supports('programType', t);
    if (v !== true) out.push(unmet('programType', t, 'absent', `program type ${t} (${v ?? unknown(probe)})`));
  }
  for (const t of requires.mapTypes ?? []) {
    const v = probe.supports('mapType', t);
    if (v !== true) out.push(unmet('mapType', t, 'absent', `map type ${t} (${v ?? unknown(probe)})`));
  }
  // A helper must be callable from at least one of the program types the package uses.
  const types = (requires.programTypes ?? []).filter((t) => probe.supports('programType', t) === true);
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
