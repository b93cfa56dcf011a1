// Unit tests: checkRequires against a fake probe lists every unmet requirement; kernel versions compare.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { HostProbe } from './probe.js';
import { parseCapabilities, parseMounts } from './probe.js';
import { btfSource, checkRequires, compareKernel, parseKernelVersion } from './requirements.js';

function fakeProbe(overrides: Partial<HostProbe> = {}): HostProbe {
  const helpers: Record<string, string[]> = {
    xdp: ['bpf_ktime_get_ns'],
    sched_cls: ['bpf_ktime_get_ns', 'bpf_skb_store_bytes'],
  };
  const probe: Omit<HostProbe, 'supports'> = {
    arch: 'x86',
    kernelRelease: '6.1.0-18-amd64',
    btf: true,
    btfSource: 'kernel',
    mounts: { bpffs: '/sys/fs/bpf' },
    programTypes: ['xdp', 'sched_cls', 'cgroup_skb'],
    mapTypes: ['hash', 'array', 'ringbuf'],
    attachTypes: ['cgroup_inet4_connect', 'trace_raw_tp'],
    unsupported: {
      programTypes: { sock_ops: 'the kernel refuses to load one: EINVAL' },
      mapTypes: {},
      attachTypes: {},
    },
    capabilities: ['CAP_BPF', 'CAP_NET_ADMIN'],
    libbpf: '1.1',
    supportsHelper: (h, t) => (h === 'bpf_made_up' ? undefined : (helpers[t] ?? []).includes(h)),
    ...overrides,
  };
  // The one answer per type, from the lists (as the real probe keeps them).
  const supports: HostProbe['supports'] = (kind, name) =>
    probe[`${kind}s`].includes(name) ? true : probe.unsupported[`${kind}s`][name];
  return { ...probe, supports: overrides.supports ?? supports };
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
  // Each line reads after the agent's "host lacks ", with the probe's reason where it has one.
  assert.deepEqual(
    unmet.map((u) => `host lacks ${u.message}`),
    [
      'host lacks arch arm64 (this host is x86)',
      'host lacks kernel 6.6 or newer (this host runs 6.1.0-18-amd64)',
      'host lacks kernel BTF (/sys/kernel/btf/vmlinux is missing)',
      'host lacks program type sock_ops (the kernel refuses to load one: EINVAL)',
      'host lacks map type lpm_trie (unknown to libbpf 1.1)',
      'host lacks helper bpf_skb_store_bytes for xdp programs',
      'host lacks helper bpf_made_up (unknown to this loader)',
      "host lacks capability CAP_PERFMON (not in the agent's effective set)",
      "host lacks capability CAP_SYS_ADMIN (not in the agent's effective set)",
    ],
  );
});

test('a requirement among several arches or program types names them all', () => {
  const unmet = checkRequires(
    { arches: ['arm64', 'riscv'], programTypes: ['xdp', 'tracing'], helpers: ['bpf_skb_store_bytes'] },
    fakeProbe(),
  );
  assert.deepEqual(
    unmet.map((u) => u.message),
    [
      'one of arches arm64, riscv (this host is x86)',
      'program type tracing (unknown to libbpf 1.1)',
      'helper bpf_skb_store_bytes for xdp programs',
    ],
  );
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

test('btf "core": met by the kernel BTF or the package\'s own, and says which one CO-RE uses', () => {
  const noBtf = fakeProbe({ btf: false, btfSource: 'none' });
  const core = { arches: ['x86' as const], btf: 'core' as const };
  assert.deepEqual(checkRequires(core, fakeProbe()), []);
  assert.equal(btfSource(core, fakeProbe(), { packageBtf: true }), 'kernel');
  assert.deepEqual(checkRequires(core, noBtf, { packageBtf: true }), []);
  assert.equal(btfSource(core, noBtf, { packageBtf: true }), 'package');
  const missing = checkRequires(core, noBtf);
  assert.deepEqual(
    missing.map((u) => `host lacks ${u.message}`),
    ["host lacks kernel BTF or the package's minimized BTF for this arch (neither is there)"],
  );
  assert.equal(btfSource(core, noBtf), 'none');
  // `true` keeps needing the kernel's: a package BTF does not stand in for tp_btf, fentry, LSM or kfuncs.
  assert.equal(checkRequires({ arches: ['x86'], btf: true }, noBtf, { packageBtf: true }).length, 1);
  assert.equal(btfSource({ btf: true }, noBtf, { packageBtf: true }), 'none');
});
