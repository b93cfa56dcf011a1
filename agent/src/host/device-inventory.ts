// The device's inventory for the edge: what it is (arch, kernel, build id, memory) and what its kernel runs.
import { readFileSync } from 'node:fs';
import { endianness, release, totalmem, version } from 'node:os';
import type { HostProbe as ProbedHost } from '@bpfleet/sdk/bpf';
import type { DeviceInventory, ProbedTypes } from '@bpfleet/sdk/protocol';

/**
 * The types probed once at start for the inventory (28–63 ms on this machine with other suites running, after
 * libbpf's first use; the test beside this file prints it): the library's program types and the attach routes
 * devices differ by (fentry, LSM, kprobes). Anything else is probed when a package or a selector asks.
 */
export const INVENTORY_PROGRAM_TYPES = [
  'xdp',
  'sched_cls',
  'cgroup_skb',
  'cgroup_sock_addr',
  'sock_ops',
  'raw_tracepoint',
  'tracepoint',
  'tracing',
  'kprobe',
  'lsm',
] as const;
export const INVENTORY_ATTACH_TYPES = ['trace_fentry', 'lsm_mac', 'kprobe', 'uprobe'] as const;

const NT_GNU_BUILD_ID = 3;

/** The GNU build id note of the running kernel (/sys/kernel/notes: ELF notes, 4-byte aligned), as hex. */
export function kernelBuildId(notes: Uint8Array): string | undefined {
  const view = Buffer.from(notes.buffer, notes.byteOffset, notes.byteLength);
  const align = (n: number) => (n + 3) & ~3;
  let at = 0;
  while (at + 12 <= view.length) {
    const nameSize = view.readUInt32LE(at);
    const descSize = view.readUInt32LE(at + 4);
    const type = view.readUInt32LE(at + 8);
    const name = view.subarray(at + 12, at + 12 + nameSize).toString('latin1');
    const desc = at + 12 + align(nameSize);
    if (desc + descSize > view.length) return undefined;
    if (type === NT_GNU_BUILD_ID && name === 'GNU\0' && descSize > 0)
      return view.subarray(desc, desc + descSize).toString('hex');
    at = desc + align(descSize);
  }
  return undefined;
}

function readBuildId(): string | undefined {
  try {
    return kernelBuildId(readFileSync('/sys/kernel/notes'));
  } catch {
    // Not every kernel exposes its notes (or lets this user read them): the inventory says nothing then.
    return undefined;
  }
}

function probeAll(
  host: ProbedHost,
  kind: 'programType' | 'attachType',
  names: readonly string[],
): ProbedTypes {
  const out: ProbedTypes = {};
  for (const name of names) {
    const answer = host.supports(kind, name);
    if (answer !== undefined) out[name] = answer;
  }
  return out;
}

export function collectInventory(host: ProbedHost, agentVersion: string): DeviceInventory {
  const buildId = readBuildId();
  return {
    arch: String(host.arch),
    endianness: endianness() === 'BE' ? 'big' : 'little',
    kernel: { release: release(), version: version(), ...(buildId !== undefined && { buildId }) },
    btf: host.btf ? 'kernel' : 'none',
    libbpf: host.libbpf,
    capabilities: [...host.capabilities],
    programTypes: probeAll(host, 'programType', INVENTORY_PROGRAM_TYPES),
    attachTypes: probeAll(host, 'attachType', INVENTORY_ATTACH_TYPES),
    agentVersion,
    memoryBytes: totalmem(),
  };
}
