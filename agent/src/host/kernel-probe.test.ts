// Kernel test: what the agent says a host lacks, from the real probe of this kernel (no kprobes, libbpf 1.1).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRequires, probeHost } from '@bpfleet/sdk/bpf';
import type { Requires } from '@bpfleet/sdk/manifest';
import type { VerifiedPackage } from '../ports.js';
import { KernelProbe } from './kernel-probe.js';

function pkg(requires: Requires): VerifiedPackage {
  return {
    ref: { package: 'h3p/probe', version: '1.0.0', digest: 'sha256:00', size: 0 },
    manifestDigest: 'sha256:00',
    manifest: { name: 'h3p/probe', version: '1.0.0', license: 'GPL', programs: [], requires },
    contents: {},
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
