// Tests: a CollectionSpec describes programs, maps and config variables without loading anything;
// config values round-trip through their BTF-described encoding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { loadCollectionSpec } from './collection-spec.js';
import { decodeValue, encodeValue, type VariableSpec } from './internal/datasec.js';
import { abiProblem } from './internal/libbpf.js';
import { summarize } from './load-failure.js';
import { sectionInfo } from './section.js';
import { openFds, testObject } from './testing/fixtures.js';

test('the spec lists programs with SEC-derived attach kinds, maps, and const volatile variables', () => {
  const fds = openFds();
  const spec = loadCollectionSpec(testObject('xdp_counter'), { name: 'xdp_counter' });
  assert.deepEqual(spec.programs, [
    { name: 'count_pings', section: 'xdp', type: 'xdp', attachType: 'xdp', attach: 'xdp' },
  ]);
  const counts = spec.maps.find((m) => m.name === 'counts');
  assert.deepEqual(counts, {
    name: 'counts',
    type: 'array',
    keySize: 4,
    valueSize: 8,
    maxEntries: 4,
    flags: 0,
    internal: false,
  });
  assert.deepEqual(
    spec.variables.map((v) => [v.name, v.kind, v.size, v.defaultValue]),
    [
      ['version', 'uint', 8, 1n],
      ['verdict', 'uint', 4, 2],
    ],
  );
  const cg = loadCollectionSpec(testObject('cgroup_counters'));
  assert.deepEqual(
    cg.programs.map((p) => [p.section, p.type, p.attachType, p.attach, p.direction]),
    [
      ['cgroup_skb/egress', 'cgroup_skb', 'cgroup_inet_egress', 'cgroup', 'egress'],
      ['cgroup_skb/ingress', 'cgroup_skb', 'cgroup_inet_ingress', 'cgroup', 'ingress'],
      ['cgroup/connect4', 'cgroup_sock_addr', 'cgroup_inet4_connect', 'cgroup', undefined],
      ['cgroup/connect6', 'cgroup_sock_addr', 'cgroup_inet6_connect', 'cgroup', undefined],
      ['sockops', 'sock_ops', 'cgroup_sock_ops', 'cgroup', undefined],
    ],
  );
  assert.deepEqual(openFds(), fds, 'reading a spec opens no fd');
});

test('SEC names libbpf 1.1 does not know still say where they attach', () => {
  assert.deepEqual(sectionInfo('tcx/ingress', ''), { kind: 'tcx', direction: 'ingress', forceType: 3 });
  assert.deepEqual(sectionInfo('tc', 'sched_cls'), { kind: 'tcx' });
  assert.deepEqual(sectionInfo('uprobe/usr/lib/libc.so.6:malloc', 'kprobe'), { kind: 'uprobe' });
  assert.deepEqual(sectionInfo('kprobe/do_nanosleep', 'kprobe'), { kind: 'kprobe' });
});

test('the verifier summary is the line before the statistics', () => {
  const log =
    '0: R1=ctx()\n1: (61) r0 = *(u32 *)(r2 +0)\ninvalid access to packet\nprocessed 2 insns (limit 1000000)\n';
  assert.equal(summarize(log), 'invalid access to packet');
  assert.equal(summarize(''), 'rejected with an empty log');
});

const variable = (kind: VariableSpec['kind'], size: number): VariableSpec => ({
  name: 'v',
  section: '.rodata',
  offset: 0,
  size,
  kind,
  defaultValue: 0,
});

test('integer config values round-trip and out-of-range ones are refused', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(1, 2, 4, 8),
      fc.boolean(),
      fc.bigInt(-(1n << 70n), 1n << 70n),
      (size, signed, n) => {
        const v = variable(signed ? 'int' : 'uint', size);
        const bits = BigInt(size * 8);
        const fits = signed ? n >= -(1n << (bits - 1n)) && n < 1n << (bits - 1n) : n >= 0n && n < 1n << bits;
        const target = new Uint8Array(size);
        if (!fits) {
          assert.throws(() => encodeValue(v, n, target), /outside/);
          return;
        }
        encodeValue(v, n, target);
        assert.equal(BigInt(decodeValue(v.kind, target) as number | bigint), n);
      },
    ),
  );
});

test('strings and booleans encode into their variables', () => {
  const s = variable('string', 8);
  const target = new Uint8Array(8).fill(0xff);
  encodeValue(s, 'wan0', target);
  assert.equal(decodeValue('string', target), 'wan0');
  assert.throws(() => encodeValue(s, '12345678', target), /do not fit/);
  const b = variable('bool', 1);
  const flag = new Uint8Array(1);
  encodeValue(b, true, flag);
  assert.equal(decodeValue('bool', flag), true);
  assert.throws(() => encodeValue(b, 1, flag), /expected a boolean/);
});

test('only the libbpf ABI the struct layouts were checked against is accepted', () => {
  assert.equal(abiProblem(1, 1), undefined);
  assert.match(
    abiProblem(1, 5)?.message ?? '',
    /libbpf: version 1.5 is not supported: struct layouts are pinned to libbpf 1.1/,
  );
  assert.equal(abiProblem(0, 8)?.code, 'LIBBPF_ABI_UNKNOWN');
});
