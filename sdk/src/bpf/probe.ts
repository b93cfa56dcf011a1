// Host probe: what this machine offers eBPF programs (arch, kernel, BTF, mounts, types, helpers, capabilities).
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { HELPER_NAMES } from './helper-ids.js';
import { closeFd } from './internal/fd.js';
import { assertKnownAbi, libbpf, loadHelperProbe } from './internal/libbpf.js';

export type Arch = 'x86' | 'arm64' | 'arm' | 'riscv' | 's390' | 'powerpc' | 'mips' | 'loongarch';
export type Capability = 'CAP_BPF' | 'CAP_NET_ADMIN' | 'CAP_PERFMON' | 'CAP_SYS_ADMIN';

export interface HostProbe {
  readonly arch: Arch | string;
  readonly kernelRelease: string;
  readonly btf: boolean;
  readonly mounts: { readonly bpffs?: string; readonly tracefs?: string; readonly cgroup2?: string };
  /** libbpf names of the program and map types this kernel loads. */
  readonly programTypes: readonly string[];
  readonly mapTypes: readonly string[];
  readonly capabilities: readonly Capability[];
  readonly libbpf: string;
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

// Program types the kernel only loads with an expected attach type (the probe picks a typical one).
const PROBE_ATTACH: Record<string, number> = { cgroup_sock_addr: 10, cgroup_sockopt: 21, sk_lookup: 36 };

function helperAvailable(typeId: number, progTypes: Map<string, number>, helperId: number): boolean {
  const typeName = [...progTypes].find(([, id]) => id === typeId)?.[0] ?? '';
  const { fd, log } = loadHelperProbe(typeId, PROBE_ATTACH[typeName] ?? 0, helperId);
  if (fd >= 0) {
    closeFd(fd);
    return true;
  }
  if (/invalid func |unknown func |cannot use helper|helper call is not allowed/.test(log)) return false;
  // Refused for another reason (type needs more set-up): libbpf's probe is the best remaining answer.
  return libbpf.probeHelper(typeId, helperId) === 1;
}

/** Probes the running host. Program and map types are probed now; helpers when asked. */
export function probeHost(): HostProbe {
  const version = assertKnownAbi();
  const progTypes = names(libbpf.progTypeStr);
  const mapTypes = names(libbpf.mapTypeStr);
  const helperCache = new Map<string, boolean>();
  return {
    arch: ARCHES[process.arch] ?? process.arch,
    kernelRelease: release(),
    btf: existsSync('/sys/kernel/btf/vmlinux'),
    mounts: parseMounts(readFileSync('/proc/self/mounts', 'utf8')),
    programTypes: [...progTypes]
      .filter(([n, id]) => n !== 'unspec' && libbpf.probeProgType(id) === 1)
      .map(([n]) => n),
    mapTypes: [...mapTypes]
      .filter(([n, id]) => n !== 'unspec' && libbpf.probeMapType(id) === 1)
      .map(([n]) => n),
    capabilities: parseCapabilities(readFileSync('/proc/self/status', 'utf8')),
    libbpf: `${version.major}.${version.minor}`,
    supportsHelper(helper, programType) {
      const helperId = HELPER_NAMES.indexOf(helper.startsWith('bpf_') ? helper : `bpf_${helper}`);
      const typeId = progTypes.get(programType);
      if (helperId <= 0 || typeId === undefined) return undefined;
      const key = `${helperId}/${typeId}`;
      let ok = helperCache.get(key);
      if (ok === undefined) {
        ok = helperAvailable(typeId, progTypes, helperId);
        helperCache.set(key, ok);
      }
      return ok;
    },
  };
}
