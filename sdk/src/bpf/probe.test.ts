// Kernel test: the host probe reports this machine (kernel 6.18 with BTF, bpffs, XDP, ring buffers).
import assert from 'node:assert/strict';
import { release } from 'node:os';
import { test } from 'node:test';
import { probeHost } from './probe.js';
import { checkRequires } from './requirements.js';

test('probeHost describes the running kernel and finds what it supports', () => {
  const probe = probeHost();
  assert.equal(probe.kernelRelease, release());
  assert.equal(probe.libbpf, '1.1');
  assert.equal(probe.mounts.bpffs, '/sys/fs/bpf');
  for (const t of [
    'xdp',
    'sched_cls',
    'cgroup_skb',
    'sock_ops',
    'raw_tracepoint',
    'tracepoint',
    'cgroup_sock_addr',
  ]) {
    assert.ok(probe.programTypes.includes(t), t);
  }
  for (const t of ['hash', 'array', 'percpu_array', 'lpm_trie', 'ringbuf', 'lru_hash'])
    assert.ok(probe.mapTypes.includes(t), t);
  assert.equal(probe.supportsHelper('bpf_ktime_get_ns', 'xdp'), true);
  // Packet-writing helpers exist for TC programs but not for socket filters.
  assert.equal(probe.supportsHelper('bpf_skb_store_bytes', 'sched_cls'), true);
  assert.equal(probe.supportsHelper('bpf_skb_store_bytes', 'socket_filter'), false);
  assert.equal(probe.supportsHelper('bpf_nonexistent', 'xdp'), undefined);
  const unmet = checkRequires(
    { arches: [probe.arch as 'x86'], kernel: '99.0', mapTypes: ['ringbuf'] },
    probe,
  );
  assert.deepEqual(
    unmet.map((u) => u.kind),
    ['kernel'],
  );
});
