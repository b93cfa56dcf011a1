// Unit tests: checkRequires against a fake probe lists every unmet requirement; kernel versions compare.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { HostProbe } from './probe.js';
import { parseCapabilities, parseMounts } from './probe.js';
import { checkRequires, compareKernel, parseKernelVersion } from './requirements.js';

function fakeProbe(overrides: Partial<HostProbe> = {}): HostProbe {
  const helpers: Record<string, string[]> = {
    xdp: ['bpf_ktime_get_ns'],
    sched_cls: ['bpf_ktime_get_ns', 'bpf_skb_store_bytes'],
  };
  return {
    arch: 'x86',
    kernelRelease: '6.1.0-18-amd64',
    btf: true,
    mounts: { bpffs: '/sys/fs/bpf' },
    programTypes: ['xdp', 'sched_cls', 'cgroup_skb'],
    mapTypes: ['hash', 'array', 'ringbuf'],
    capabilities: ['CAP_BPF', 'CAP_NET_ADMIN'],
    libbpf: '1.1',
    supportsHelper: (h, t) => (h === 'bpf_made_up' ? undefined : (helpers[t] ?? []).includes(h)),
    ...overrides,
  };
}

test('a host that has everything meets the requirements', () => {
  const unmet = checkRequires(
    {
      arches: ['x86', 'arm64'],
      kernel: '5.15',
      btf: true,
      programTypes: ['xdp'],
      mapTypes: ['hash', 'ringbuf'],
      helpers: ['bpf_ktime_get_ns'],
      capabilities: ['CAP_BPF'],
    },
    fakeProbe(),
  );
  assert.deepEqual(unmet, []);
});

test('every unmet requirement is listed, each precisely', () => {
  const unmet = checkRequires(
    {
      arches: ['arm64'],
      kernel: '6.6',
      btf: true,
      programTypes: ['xdp', 'sock_ops'],
      mapTypes: ['lpm_trie', 'hash'],
      helpers: ['bpf_skb_store_bytes', 'bpf_made_up'],
      capabilities: ['CAP_PERFMON', 'CAP_SYS_ADMIN'],
    },
    fakeProbe({ btf: false }),
  );
  assert.deepEqual(
    unmet.map((u) => `${u.kind}:${u.required}:${u.found}`),
    [
      'arch:arm64:x86',
      'kernel:6.6:6.1.0-18-amd64',
      'btf:true:false',
      'programType:sock_ops:absent',
      'mapType:lpm_trie:absent',
      'helper:bpf_skb_store_bytes:absent',
      'helper:bpf_made_up:unknown',
      'capability:CAP_PERFMON:absent',
      'capability:CAP_SYS_ADMIN:absent',
    ],
  );
  assert.match(unmet[5]?.message ?? '', /not available to xdp programs/);
});

test('kernel versions compare numerically, suffixes ignored', () => {
  assert.deepEqual(parseKernelVersion('6.18.44-fc-v657'), [6, 18, 44]);
  assert.equal(compareKernel('5.15', '5.4.0'), 1);
  assert.equal(compareKernel('6.1.0-18-amd64', '6.1'), 0);
  fc.assert(
    fc.property(fc.nat(20), fc.nat(40), fc.nat(300), fc.nat(20), fc.nat(40), (a, b, c, x, y) => {
      const left = `${a}.${b}.${c}-custom`;
      const right = `${x}.${y}`;
      const expected = Math.sign(a - x || b - y || c);
      assert.equal(compareKernel(left, right), expected);
      assert.equal(compareKernel(right, left), -expected || 0);
    }),
  );
});

test('mount points and capabilities are read from /proc text', () => {
  const mounts = parseMounts(
    'bpffs /sys/fs/bpf bpf rw 0 0\ntracefs /sys/kernel/tracing tracefs rw 0 0\ncgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n',
  );
  assert.deepEqual(mounts, {
    bpffs: '/sys/fs/bpf',
    tracefs: '/sys/kernel/tracing',
    cgroup2: '/sys/fs/cgroup',
  });
  // CAP_NET_ADMIN (12) and CAP_BPF (39) only.
  const eff = ((1n << 12n) | (1n << 39n)).toString(16).padStart(16, '0');
  assert.deepEqual(parseCapabilities(`Name:\tnode\nCapEff:\t${eff}\n`), ['CAP_NET_ADMIN', 'CAP_BPF']);
  assert.deepEqual(parseCapabilities('CapEff:\t0000000000000000\n'), []);
});
