import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeviceInventory } from '../protocol/inventory.js';
import { parsePolicy } from './parse-policy.js';
import { PolicyFieldError } from './policy-error.js';
import { matchSelector, unmetKernel } from './target-selector.js';

const inventory: DeviceInventory = {
  arch: 'x86',
  endianness: 'little',
  kernel: { release: '6.18.0-hei', version: '#1 SMP' },
  btf: 'kernel',
  libbpf: '1.1',
  capabilities: ['CAP_BPF', 'CAP_NET_ADMIN'],
  programTypes: { xdp: true, kprobe: 'no kprobe support' },
  attachTypes: {},
  agentVersion: '0.1.0',
  memoryBytes: 1 << 30,
};

const policy = (target: string) => `apiVersion: bpfleet/v1
kind: Policy
serial: 1
expires: "2030-01-01T00:00:00Z"
fleet: acme
target: ${target}
programs: []
`;

test('target.where parses strictly, with field paths', () => {
  const p = parsePolicy(
    policy('{ group: gw, where: { arch: [x86], kernel: ">=6.6", btf: true, programTypes: [xdp] } }'),
  );
  assert.deepEqual(p.target, {
    group: 'gw',
    where: { arch: ['x86'], kernel: '>=6.6', btf: true, programTypes: ['xdp'] },
  });
  assert.deepEqual(parsePolicy(policy('{ device: d1 }')).target, { device: 'd1' }, 'no where, none added');
  const cases: Array<[string, string, string]> = [
    ['{ group: gw, where: { kernal: ">=6" } }', 'target.where.kernal', 'UNKNOWN_FIELD'],
    ['{ group: gw, where: { kernel: "six" } }', 'target.where.kernel', 'INVALID_VALUE'],
    ['{ group: gw, where: { kernel: 6 } }', 'target.where.kernel', 'INVALID_TYPE'],
    ['{ group: gw, where: { arch: [] } }', 'target.where.arch', 'INVALID_TYPE'],
    ['{ group: gw, where: { programTypes: [XDP] } }', 'target.where.programTypes[0]', 'INVALID_VALUE'],
    ['{ group: gw, where: { btf: "yes" } }', 'target.where.btf', 'INVALID_TYPE'],
    ['{ group: gw, where: {} }', 'target.where', 'INVALID_VALUE'],
    ['{ where: { btf: true } }', 'target', 'INVALID_TARGET'],
  ];
  for (const [target, path, code] of cases) {
    assert.throws(
      () => parsePolicy(policy(target)),
      (e: unknown) => e instanceof PolicyFieldError && e.path === path && e.code === code,
      target,
    );
  }
});

test('kernel constraints compare releases numerically', () => {
  assert.deepEqual(unmetKernel('6.18.0-hei', '>=6.6'), []);
  assert.deepEqual(unmetKernel('6.18.0-hei', '>=99'), ['>=99']);
  assert.deepEqual(unmetKernel('5.10.43', '>=5.10 <6.0'), []);
  assert.deepEqual(unmetKernel('6.1.0', '>=5.10 <6.0'), ['<6.0']);
  assert.deepEqual(unmetKernel('6.6.0', '6.6'), []);
});

test('a selector excludes with one line per failing field; unprobed types are left to the device', () => {
  assert.deepEqual(matchSelector({ kernel: '>=6.6', arch: ['x86'], btf: true }, inventory), {
    excluded: [],
    unknown: [],
  });
  assert.deepEqual(
    matchSelector(
      { kernel: '>=99', arch: ['arm64'], btf: false, programTypes: ['xdp', 'kprobe', 'lsm'] },
      inventory,
    ),
    {
      excluded: [
        'arch x86 is not arm64',
        'kernel 6.18.0-hei is not >=99',
        'kernel has BTF (the selector wants none)',
        'program type kprobe unsupported (no kprobe support)',
      ],
      unknown: ['program type lsm (not probed yet)'],
    },
  );
  // The device answers what its inventory has not probed.
  assert.deepEqual(
    matchSelector({ programTypes: ['lsm'], capabilities: ['CAP_SYS_ADMIN'] }, inventory, () => 'EPERM'),
    { excluded: ['program type lsm unsupported (EPERM)', 'capability CAP_SYS_ADMIN missing'], unknown: [] },
  );
});
