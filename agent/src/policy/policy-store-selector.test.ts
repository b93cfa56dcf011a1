// A policy whose target.where leaves the device out is held (its serial counts) but deploys nothing, and says why.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchSelector, type Policy, signPolicy, verifyPolicy } from '@bpfleet/sdk/policy';
import type { DeviceInventory } from '@bpfleet/sdk/protocol';
import { generateKeyPair, toSigningKey } from '@bpfleet/sdk/trust';
import { deviceTopics } from '../mqtt/topics.js';
import { PolicyStore } from './policy-store.js';

const operator = generateKeyPair();
const keys = [{ keyId: operator.keyId, publicKeyPem: operator.publicKeyPem }];
const topics = deviceTopics('home', 'dev-1');
const now = new Date('2029-06-01T00:00:00Z');
const inventory: DeviceInventory = {
  arch: 'x86',
  endianness: 'little',
  kernel: { release: '6.18.0', version: '#1' },
  btf: 'kernel',
  libbpf: '1.1',
  capabilities: ['CAP_BPF'],
  programTypes: { xdp: true },
  attachTypes: {},
  agentVersion: '0.1.0',
  memoryBytes: 1,
};

function policy(serial: number, target: Policy['target'], version: string): Policy {
  return {
    apiVersion: 'bpfleet/v1',
    kind: 'Policy',
    serial,
    expires: '2030-01-01T00:00:00Z',
    target,
    fleet: 'home',
    programs: [{ id: 'count', package: 'acme/count', version }],
  };
}

const signed = async (p: Policy) =>
  Buffer.from(JSON.stringify(await signPolicy(p, toSigningKey(operator.privateKeyPem))));

function store(): PolicyStore {
  return new PolicyStore({
    deviceId: 'dev-1',
    fleet: 'home',
    groups: ['gw'],
    deviceTopic: topics.device,
    groupTopic: topics.group,
    verify: (bundle, at) => verifyPolicy(bundle, keys, at),
    now: () => now,
    // An unprobed type the probe does not know either stays unknown: the device then counts it against.
    judge: (where) =>
      matchSelector(where, inventory, (_kind, name) => (name === 'lsm' ? 'EPERM' : undefined)),
  });
}

test('an excluded policy is accepted, deploys nothing and is listed with its reasons', async () => {
  const s = store();
  const gw = await s.receive(topics.group('gw'), await signed(policy(1, { group: 'gw' }, '1.0.0')));
  assert.equal(gw.kind, 'accepted');
  const out = policy(
    1,
    { device: 'dev-1', where: { kernel: '>=99', programTypes: ['lsm', 'netkit'] } },
    '2.0.0',
  );
  assert.equal((await s.receive(topics.device, await signed(out))).kind, 'accepted');
  assert.deepEqual(s.excluded(), [
    {
      topic: topics.device,
      serial: 1,
      reasons: [
        'kernel 6.18.0 is not >=99',
        'program type lsm unsupported (EPERM)',
        'cannot tell program type netkit (not probed yet)',
      ],
    },
  ]);
  // The device policy is as if absent: the group's entry with the same id runs.
  assert.deepEqual(
    s.wanted().map((p) => [p.id, p.version, p.source]),
    [['count', '1.0.0', 'group:gw']],
  );
  const within = policy(2, { device: 'dev-1', where: { kernel: '>=6.6', arch: ['x86'] } }, '2.0.0');
  assert.equal((await s.receive(topics.device, await signed(within))).kind, 'accepted');
  assert.deepEqual(s.excluded(), []);
  assert.deepEqual(
    s.wanted().map((p) => [p.id, p.version, p.source]),
    [['count', '2.0.0', 'device:dev-1']],
  );
});
