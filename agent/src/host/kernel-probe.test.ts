// Kernel test: what the agent says a host lacks, from the real probe of this kernel (no kprobes, libbpf 1.1).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkRequires, probeHost } from '@bpfleet/sdk/bpf';
import type { Requires } from '@bpfleet/sdk/manifest';
import type { VerifiedPackage } from '../ports.js';
import { KernelProbe } from './kernel-probe.js';

/** A package whose object is one of the loader's test objects (build/bpf), listing `programs`. */
function pkg(requires: Requires, object?: string, programs: string[] = []): VerifiedPackage {
  const bytes =
    object && readFileSync(join(import.meta.dirname, '..', '..', '..', 'build', 'bpf', `${object}.bpf.o`));
  return {
    ref: { package: 'h3p/probe', version: '1.0.0', digest: 'sha256:00', size: 0 },
    manifestDigest: 'sha256:00',
    manifest: {
      name: 'h3p/probe',
      version: '1.0.0',
      license: 'GPL',
      programs: programs.map((name) => ({ name })),
      requires,
    },
    contents: { object: () => bytes },
  };
}

test('every unmet requirement is one line that reads after "host lacks"; met ones say nothing', async () => {
  const host = probeHost();
  const probe = new KernelProbe(host, checkRequires);
  const missing = await probe.missing(
    pkg({
      arches: [host.arch as 'x86'],
      kernel: '5.15',
      btf: true,
      programTypes: ['xdp', 'tracing', 'kprobe', 'netfilter'],
      mapTypes: ['lpm_trie', 'ringbuf', 'percpu_array', 'arena'],
      helpers: ['bpf_ringbuf_output', 'bpf_xdp_adjust_head'],
    }),
  );
  assert.deepEqual(missing, [
    'program type kprobe (no kprobe support: CONFIG_KPROBES is off, the kernel has no kprobe PMU and no kprobe_events)',
    'program type netfilter (unknown to libbpf 1.1)',
    'map type arena (unknown to libbpf 1.1)',
  ]);
  assert.deepEqual(
    await probe.missing(pkg({ arches: [], programTypes: ['tracing', 'raw_tracepoint', 'sched_cls'] })),
    [],
  );
});

test("the listed programs' own routes decide: a uprobe runs without kprobes, an fentry program does not", async () => {
  const probe = new KernelProbe(probeHost(), checkRequires);
  // Both say `kprobe` (libbpf's type for either); only the kprobe one needs what this kernel lacks.
  assert.deepEqual(
    await probe.missing(pkg({ arches: [], programTypes: ['kprobe'] }, 'uprobe_getpid', ['on_getpid'])),
    [],
  );
  assert.deepEqual(
    await probe.missing(pkg({ arches: [], programTypes: ['kprobe'] }, 'probes', ['on_nanosleep'])),
    [
      'attach type kprobe for program on_nanosleep (no kprobe support: CONFIG_KPROBES is off, the kernel has no kprobe PMU and no kprobe_events)',
    ],
  );
  // `tracing` is met (tp_btf loads), but this program is fentry, which the kernel refuses.
  assert.deepEqual(
    await probe.missing(pkg({ arches: [], programTypes: ['tracing'] }, 'fentry', ['on_nanosleep_entry'])),
    ['attach type trace_fentry for program on_nanosleep_entry (the kernel refuses to load one: EPERM)'],
  );
  // Programs the manifest does not list are not judged (they are never loaded).
  assert.deepEqual(await probe.missing(pkg({ arches: [], programTypes: ['tracing'] }, 'fentry', [])), []);
  assert.deepEqual(
    await probe.missing(
      pkg({ arches: [], programTypes: ['tracing', 'raw_tracepoint', 'tracepoint'] }, 'exec_events', [
        'on_exec',
        'count_exec_raw',
        'count_exec_tp',
      ]),
    ),
    [],
  );
});
