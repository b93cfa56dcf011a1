// Program and attach types this kernel really offers, found by loading tiny programs as `bpftool feature probe` does.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { findTypedefWithPrefix } from './btf-scan.js';
import { closeFd, errnoName } from './fd.js';
import { libbpf, loadProbeProgram, type ProbeLoadOptions, type ProbeLoadResult } from './libbpf.js';

/** A probe's answer; `reason` (when refused) reads after "program type X (" in the host-lacks message. */
export type Verdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const YES: Verdict = { ok: true };
const VMLINUX = '/sys/kernel/btf/vmlinux';
const BPF_F_SLEEPABLE = 1 << 4;
const ENOTSUPP = 524;

/** `r0 = value; exit`: the smallest program a type accepts once its set-up is right. */
export function returnValue(value = 0): Uint8Array {
  const insns = new Uint8Array(16);
  insns[0] = 0xb7; // BPF_ALU64 | BPF_MOV | BPF_K
  new DataView(insns.buffer).setInt32(4, value, true);
  insns[8] = 0x95; // BPF_JMP | BPF_EXIT
  return insns;
}

/** `call helper; r0 = 0; exit`. */
export function callHelper(helperId: number): Uint8Array {
  const insns = new Uint8Array(24);
  insns[0] = 0x85; // BPF_JMP | BPF_CALL
  new DataView(insns.buffer).setInt32(4, helperId, true);
  insns.set(returnValue(0), 8);
  return insns;
}

/**
 * What a tracing/LSM probe names as its BTF target. `tp_btf`: a real `btf_trace_*` typedef, so a tp_btf program
 * really loads. `not-a-function`: BTF id 1, libbpf's own probe — the kernel accepting the attach type gets as far
 * as "attach_btf_id 1 is not a function"; a real kernel function would mean reading most of the 5 MiB vmlinux BTF
 * to find its id (50+ ms here), and the refusals seen (EPERM for fentry, fexit, fmod_ret, lsm) come before that check.
 */
type BtfTarget = 'tp_btf' | 'not-a-function';

interface AttachProbe {
  progType: string;
  target?: BtfTarget;
}

/** cgroup socket hooks must return 1 ("allow") on some attach types (recvmsg, getpeername); 1 suits them all. */
const RETURNS_ONE = new Set(['cgroup_sock', 'cgroup_sock_addr', 'cgroup_sockopt']);

/** Attach types the kernel checks when it loads a program (so a load answers for them), with the probe's target. */
const ATTACH_PROBES: Record<string, AttachProbe> = {
  cgroup_inet_sock_create: { progType: 'cgroup_sock' },
  cgroup_inet4_post_bind: { progType: 'cgroup_sock' },
  cgroup_inet6_post_bind: { progType: 'cgroup_sock' },
  cgroup_inet_sock_release: { progType: 'cgroup_sock' },
  cgroup_inet4_bind: { progType: 'cgroup_sock_addr' },
  cgroup_inet6_bind: { progType: 'cgroup_sock_addr' },
  cgroup_inet4_connect: { progType: 'cgroup_sock_addr' },
  cgroup_inet6_connect: { progType: 'cgroup_sock_addr' },
  cgroup_udp4_sendmsg: { progType: 'cgroup_sock_addr' },
  cgroup_udp6_sendmsg: { progType: 'cgroup_sock_addr' },
  cgroup_udp4_recvmsg: { progType: 'cgroup_sock_addr' },
  cgroup_udp6_recvmsg: { progType: 'cgroup_sock_addr' },
  cgroup_inet4_getpeername: { progType: 'cgroup_sock_addr' },
  cgroup_inet6_getpeername: { progType: 'cgroup_sock_addr' },
  cgroup_inet4_getsockname: { progType: 'cgroup_sock_addr' },
  cgroup_inet6_getsockname: { progType: 'cgroup_sock_addr' },
  cgroup_getsockopt: { progType: 'cgroup_sockopt' },
  cgroup_setsockopt: { progType: 'cgroup_sockopt' },
  xdp_devmap: { progType: 'xdp' },
  xdp_cpumap: { progType: 'xdp' },
  sk_lookup: { progType: 'sk_lookup' },
  lirc_mode2: { progType: 'lirc_mode2' },
  trace_raw_tp: { progType: 'tracing', target: 'tp_btf' },
  trace_fentry: { progType: 'tracing', target: 'not-a-function' },
  trace_fexit: { progType: 'tracing', target: 'not-a-function' },
  modify_return: { progType: 'tracing', target: 'not-a-function' },
  trace_iter: { progType: 'tracing', target: 'not-a-function' },
  lsm_mac: { progType: 'lsm', target: 'not-a-function' },
};

/**
 * How each program type that needs more than a plain load is probed. `attach`: the type is supported when
 * this attach type loads (tracing means tp_btf, the one tracing form that needs no trampoline). `refusal`:
 * libbpf 1.1's rule for types whose real target the probe cannot make — the kernel's refusal for the missing
 * target (rather than for the type) shows it knows the type. `flags`: load flags the type demands.
 */
type TypeProbe = { attach: string } | { refusal: number; options?: ProbeLoadOptions } | { flags: number };
const TYPE_PROBES: Record<string, TypeProbe> = {
  cgroup_sock_addr: { attach: 'cgroup_inet4_connect' },
  cgroup_sockopt: { attach: 'cgroup_getsockopt' },
  sk_lookup: { attach: 'sk_lookup' },
  lirc_mode2: { attach: 'lirc_mode2' },
  tracing: { attach: 'trace_raw_tp' },
  lsm: { attach: 'lsm_mac' },
  ext: { refusal: 22, options: { attachBtfId: 1 } },
  struct_ops: { refusal: ENOTSUPP },
  syscall: { flags: BPF_F_SLEEPABLE },
};

/**
 * Why SEC("kprobe/…") or SEC("uprobe/…") cannot attach, or undefined when it can. Loading a kprobe-type
 * program succeeds even without CONFIG_KPROBES, so the probe checks what libbpf's attach needs instead: the
 * perf PMU it reads the event type from, or the legacy tracefs file it falls back to. A real attach would
 * plant a probe in the running kernel at every start for the same answer.
 */
export function perfRouteProblem(kind: 'kprobe' | 'uprobe'): string | undefined {
  const pmu = `/sys/bus/event_source/devices/${kind}/type`;
  const legacy = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'].map((d) => `${d}/${kind}_events`);
  if (existsSync(pmu) || legacy.some((f) => existsSync(f))) return undefined;
  return `no ${kind} support: CONFIG_${kind.toUpperCase()}S is off, the kernel has no ${kind} PMU and no ${kind}_events`;
}

/** "the kernel refuses …: EINVAL" with the verifier's own words when it said any (not its state dumps). */
function refusal(r: ProbeLoadResult): string {
  const said = r.log
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('processed ') && !/^\d+: /.test(l))
    .at(-1);
  return `the kernel refuses to load one: ${errnoName(r.errno)}${said ? ` (${said.slice(0, 120)})` : ''}`;
}

/** Every answer is computed once and kept: kernels do not grow features while a process runs. */
export class FeatureProber {
  private readonly progTypes: Map<string, number>;
  private readonly attachTypes: Map<string, number>;
  private readonly programVerdicts = new Map<string, Verdict>();
  private readonly attachVerdicts = new Map<string, Verdict>();
  private tracepoint: { id: number } | string | undefined;

  constructor(progTypes: Map<string, number>, attachTypes: Map<string, number>) {
    this.progTypes = progTypes;
    this.attachTypes = attachTypes;
  }

  /** Attach types this prober knows how to check, in libbpf's names. */
  attachTypeNames(): string[] {
    return [...Object.keys(ATTACH_PROBES).filter((n) => this.attachTypes.has(n)), 'kprobe', 'uprobe'];
  }

  programType(name: string): Verdict {
    let v = this.programVerdicts.get(name);
    if (!v) {
      v = this.probeProgramType(name);
      this.programVerdicts.set(name, v);
    }
    return v;
  }

  attachType(name: string): Verdict {
    let v = this.attachVerdicts.get(name);
    if (!v) {
      v = this.probeAttachType(name);
      this.attachVerdicts.set(name, v);
    }
    return v;
  }

  /** The load set-up a program of `typeName` needs (expected attach type, BTF target), for helper probes. */
  loadOptions(typeName: string): ProbeLoadOptions | undefined {
    const probe = TYPE_PROBES[typeName];
    if (!probe) return {};
    if ('flags' in probe) return { progFlags: probe.flags };
    // Without a real target (lsm, ext, struct_ops) no helper call gets verified: libbpf's probe answers.
    if (!('attach' in probe) || ATTACH_PROBES[probe.attach]?.target === 'not-a-function') return undefined;
    const setup = this.attachSetup(probe.attach);
    return typeof setup === 'string' ? undefined : setup.options;
  }

  private load(progType: number, options: ProbeLoadOptions, insns = returnValue(0)): ProbeLoadResult {
    const r = loadProbeProgram(progType, insns, options);
    closeFd(r.fd);
    return r;
  }

  private probeProgramType(name: string): Verdict {
    const type = this.progTypes.get(name);
    if (type === undefined) return { ok: false, reason: 'unknown to this libbpf' };
    const probe = TYPE_PROBES[name];
    if (probe && 'attach' in probe) return this.attachType(probe.attach);
    if (probe && 'refusal' in probe) {
      const r = this.load(type, probe.options ?? {});
      return r.fd >= 0 || r.errno === probe.refusal ? YES : { ok: false, reason: refusal(r) };
    }
    const loads = this.plainLoad(name, type);
    // A kprobe-type program is of use only where kprobes can fire it (uprobes are asked for as an attach type).
    return loads.ok && name === 'kprobe' ? this.attachType('kprobe') : loads;
  }

  private plainLoad(name: string, type: number): Verdict {
    const key = `load:${name}`;
    let v = this.programVerdicts.get(key);
    if (!v) {
      const probe = TYPE_PROBES[name];
      const r = this.load(type, probe && 'flags' in probe ? { progFlags: probe.flags } : {});
      v = r.fd >= 0 ? YES : { ok: false, reason: refusal(r) };
      this.programVerdicts.set(key, v);
    }
    return v;
  }

  private probeAttachType(name: string): Verdict {
    if (name === 'kprobe' || name === 'uprobe') {
      const type = this.progTypes.get('kprobe');
      if (type === undefined) return { ok: false, reason: 'unknown to this libbpf' };
      const loads = this.plainLoad('kprobe', type);
      if (!loads.ok) return loads;
      const problem = perfRouteProblem(name);
      return problem ? { ok: false, reason: problem } : YES;
    }
    const setup = this.attachSetup(name);
    if (typeof setup === 'string') return { ok: false, reason: setup };
    const ret = RETURNS_ONE.has(ATTACH_PROBES[name]?.progType ?? '') ? 1 : 0;
    const r = this.load(setup.progType, setup.options, returnValue(ret));
    if (ATTACH_PROBES[name]?.target === 'not-a-function') {
      return r.errno === 22 && r.log.includes('is not a function') ? YES : { ok: false, reason: refusal(r) };
    }
    return r.fd >= 0 ? YES : { ok: false, reason: refusal(r) };
  }

  /** The program type and load options that probe `name`, or why none can. */
  private attachSetup(name: string): string | { progType: number; options: ProbeLoadOptions } {
    const probe = ATTACH_PROBES[name];
    const attachType = this.attachTypes.get(name);
    const progType = probe && this.progTypes.get(probe.progType);
    if (!probe || attachType === undefined || progType === undefined) return 'unknown to this libbpf';
    if (probe.target === 'not-a-function') {
      // fentry/fexit, iterators and LSM attach by a kernel BTF id: without kernel BTF nothing can name one.
      if (!existsSync(VMLINUX)) return `no kernel BTF (${VMLINUX}) to attach by BTF id`;
      return { progType, options: { expectedAttachType: attachType, attachBtfId: 1 } };
    }
    if (!probe.target) return { progType, options: { expectedAttachType: attachType } };
    this.tracepoint ??= findTracepoint();
    if (typeof this.tracepoint === 'string') return this.tracepoint;
    return { progType, options: { expectedAttachType: attachType, attachBtfId: this.tracepoint.id } };
  }
}

/** A tracepoint's `btf_trace_*` typedef in the kernel's BTF, the target a tp_btf probe needs; or why none. */
function findTracepoint(): { id: number } | string {
  let fd: number;
  try {
    fd = openSync(VMLINUX, 'r');
  } catch {
    return `no kernel BTF (${VMLINUX}) to name a tracepoint`;
  }
  try {
    const read = (offset: number, length: number): Uint8Array => {
      const buf = Buffer.allocUnsafe(length);
      let n = 0;
      for (let r = 1; n < length && r > 0; n += r) r = readSync(fd, buf, n, length - n, offset + n);
      return buf.subarray(0, n);
    };
    return (
      findTypedefWithPrefix(read, 'btf_trace_') ?? 'kernel BTF names no tracepoint (no btf_trace_* type)'
    );
  } finally {
    closeSync(fd);
  }
}

/** Map types: libbpf 1.1's own probe knows each type's create quirks (ring sizes, BTF for storage maps). */
export function probeMapType(id: number): Verdict {
  const rc = libbpf.probeMapType(id);
  if (rc === 1) return YES;
  return {
    ok: false,
    reason: rc === 0 ? 'the kernel refuses to create one' : `libbpf cannot probe it: ${errnoName(rc)}`,
  };
}
