// Host probe: what this machine offers eBPF programs (arch, kernel, BTF, mounts, types, helpers, capabilities).
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { HELPER_NAMES } from './helper-ids.js';
import { closeFd } from './internal/fd.js';
import { callHelper, FeatureProber, probeMapType, type Verdict } from './internal/feature-probes.js';
import { assertKnownAbi, libbpf, loadProbeProgram } from './internal/libbpf.js';

export type Arch = 'x86' | 'arm64' | 'arm' | 'riscv' | 's390' | 'powerpc' | 'mips' | 'loongarch';
export type Capability = 'CAP_BPF' | 'CAP_NET_ADMIN' | 'CAP_PERFMON' | 'CAP_SYS_ADMIN';
export type TypeKind = 'programType' | 'mapType' | 'attachType';

export interface HostProbe {
  readonly arch: Arch | string;
  readonly kernelRelease: string;
  readonly btf: boolean;
  /** Where CO-RE finds BTF on this host: the kernel's own, or none (then only packages that bring theirs load). */
  readonly btfSource: 'kernel' | 'none';
  readonly mounts: { readonly bpffs?: string; readonly tracefs?: string; readonly cgroup2?: string };
  /**
   * libbpf names of the program types this kernel loads and can attach: `tracing` when a tp_btf program
   * loads, `kprobe` when kprobes can fire (see `attachTypes` for `uprobe`).
   */
  readonly programTypes: readonly string[];
  readonly mapTypes: readonly string[];
  /** libbpf names of the attach types a program loads with (`trace_fentry`, `lsm_mac`, …), plus `kprobe`, `uprobe`. */
  readonly attachTypes: readonly string[];
  /** Why each type this libbpf knows is missing, in words that read after "program type kprobe (". */
  readonly unsupported: {
    readonly programTypes: Readonly<Record<string, string>>;
    readonly mapTypes: Readonly<Record<string, string>>;
    readonly attachTypes: Readonly<Record<string, string>>;
  };
  readonly capabilities: readonly Capability[];
  readonly libbpf: string;
  /**
   * One program, map or attach type (names as in the lists above): true, or why not (a reason, as in
   * `unsupported`), or undefined for a name this probe does not know. Probes only that one on first ask.
   */
  supports(kind: TypeKind, name: string): true | string | undefined;
  /** Whether `helper` (e.g. `bpf_ktime_get_ns`) is callable from `programType`; probed on demand, cached. */
  supportsHelper(helper: string, programType: string): boolean | undefined;
}

const ARCHES: Record<string, Arch> = {
  x64: 'x86',
  ia32: 'x86',
  arm64: 'arm64',
  arm: 'arm',
  riscv64: 'riscv',
  s390x: 's390',
  ppc64: 'powerpc',
  mips: 'mips',
  mipsel: 'mips',
  loong64: 'loongarch',
};
const CAP_BITS: Record<Capability, number> = {
  CAP_NET_ADMIN: 12,
  CAP_SYS_ADMIN: 21,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
};

/** Whether the kernel exposes its BTF (what libbpf looks for first; a package's minimized BTF stands in otherwise). */
export function hasKernelBtf(): boolean {
  return existsSync('/sys/kernel/btf/vmlinux');
}

/** Enumerates a libbpf name table (prog/map types) until libbpf says the number is unknown. */
function names(str: (n: number) => string | null): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < 256; i++) {
    const name = str(i);
    if (name === null) break;
    out.set(name, i);
  }
  return out;
}

export function parseMounts(text: string): HostProbe['mounts'] {
  const mounts: { bpffs?: string; tracefs?: string; cgroup2?: string } = {};
  for (const line of text.split('\n')) {
    const [, where, type] = line.split(' ');
    if (!where || !type) continue;
    if (type === 'bpf' && !mounts.bpffs) mounts.bpffs = where;
    if (type === 'tracefs' && !mounts.tracefs) mounts.tracefs = where;
    if (type === 'cgroup2' && !mounts.cgroup2) mounts.cgroup2 = where;
  }
  return mounts;
}

export function parseCapabilities(status: string): Capability[] {
  const hex = /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1];
  if (!hex) return [];
  const eff = BigInt(`0x${hex}`);
  return (Object.keys(CAP_BITS) as Capability[]).filter((c) => (eff >> BigInt(CAP_BITS[c])) & 1n);
}

interface Split {
  ok: string[];
  missing: Record<string, string>;
}

/**
 * The kernel's answers, each kind probed when first asked and kept for the process (a kernel does not gain
 * features while it runs): a host whose packages need only XDP never pays for the tracing probes.
 */
interface KernelFeatures {
  libbpf: string;
  progTypes: Map<string, number>;
  mapTable: Map<string, number>;
  mapVerdicts: Map<string, Verdict>;
  programs: () => Split;
  maps: () => Split;
  attach: () => Split;
  prober: FeatureProber;
  helpers: Map<string, boolean>;
}

let features: KernelFeatures | undefined;

function once<T>(compute: () => T): () => T {
  let value: { v: T } | undefined;
  return () => {
    value ??= { v: compute() };
    return value.v;
  };
}

function split(f: KernelFeatures, kind: TypeKind, all: Iterable<string>): Split {
  const ok: string[] = [];
  const missing: Record<string, string> = {};
  for (const name of all) {
    const v = verdict(f, kind, name);
    if (!v) continue;
    if (v.ok) ok.push(name);
    else missing[name] = v.reason;
  }
  return { ok, missing };
}

function kernelFeatures(): KernelFeatures {
  const version = assertKnownAbi();
  const progTypes = names(libbpf.progTypeStr);
  const prober = new FeatureProber(progTypes, names(libbpf.attachTypeStr));
  const f: KernelFeatures = {
    libbpf: `${version.major}.${version.minor}`,
    progTypes,
    mapTable: names(libbpf.mapTypeStr),
    mapVerdicts: new Map(),
    programs: once(() => split(f, 'programType', progTypes.keys())),
    maps: once(() => split(f, 'mapType', f.mapTable.keys())),
    attach: once(() => split(f, 'attachType', prober.attachTypeNames())),
    prober,
    helpers: new Map(),
  };
  return f;
}

function verdict(f: KernelFeatures, kind: TypeKind, name: string): Verdict | undefined {
  if (name === 'unspec') return undefined;
  if (kind === 'programType') return f.progTypes.has(name) ? f.prober.programType(name) : undefined;
  if (kind === 'attachType')
    return f.prober.attachTypeNames().includes(name) ? f.prober.attachType(name) : undefined;
  const id = f.mapTable.get(name);
  if (id === undefined) return undefined;
  let v = f.mapVerdicts.get(name);
  if (!v) {
    v = probeMapType(id);
    f.mapVerdicts.set(name, v);
  }
  return v;
}

/** Our own load first: libbpf 1.1's helper probe misses 6.x's "cannot use helper" wording. */
function helperAvailable(f: KernelFeatures, typeName: string, typeId: number, helperId: number): boolean {
  const options = f.prober.loadOptions(typeName);
  if (options) {
    const { fd, log } = loadProbeProgram(typeId, callHelper(helperId), options);
    if (fd >= 0) {
      closeFd(fd);
      return true;
    }
    if (/invalid func |unknown func |cannot use helper|helper call is not allowed/.test(log)) return false;
    // The verifier reached the call and objected only to its arguments (r1 is the context): it is callable.
    if (/^0: \(85\) call /m.test(log)) return true;
  }
  // Refused for another reason (type needs more set-up): libbpf's probe is the best remaining answer.
  return libbpf.probeHelper(typeId, helperId) === 1;
}

/**
 * Probes the running host. Program, map and attach types are probed when first read (each kind once per
 * process) and kept; helpers when asked, and kept. Mounts and capabilities are read again on every call.
 */
export function probeHost(): HostProbe {
  features ??= kernelFeatures();
  const f = features;
  const btf = hasKernelBtf();
  return {
    arch: ARCHES[process.arch] ?? process.arch,
    kernelRelease: release(),
    btf,
    btfSource: btf ? 'kernel' : 'none',
    mounts: parseMounts(readFileSync('/proc/self/mounts', 'utf8')),
    get programTypes() {
      return f.programs().ok;
    },
    get mapTypes() {
      return f.maps().ok;
    },
    get attachTypes() {
      return f.attach().ok;
    },
    unsupported: {
      get programTypes() {
        return f.programs().missing;
      },
      get mapTypes() {
        return f.maps().missing;
      },
      get attachTypes() {
        return f.attach().missing;
      },
    },
    capabilities: parseCapabilities(readFileSync('/proc/self/status', 'utf8')),
    libbpf: f.libbpf,
    supports(kind, name) {
      const v = verdict(f, kind, name);
      return v === undefined ? undefined : v.ok || v.reason;
    },
    supportsHelper(helper, programType) {
      const helperId = HELPER_NAMES.indexOf(helper.startsWith('bpf_') ? helper : `bpf_${helper}`);
      const typeId = f.progTypes.get(programType);
      if (helperId <= 0 || typeId === undefined) return undefined;
      const key = `${helperId}/${typeId}`;
      let ok = f.helpers.get(key);
      if (ok === undefined) {
        ok = helperAvailable(f, programType, typeId, helperId);
        f.helpers.set(key, ok);
      }
      return ok;
    },
  };
}
