import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Policy, signPolicy, verifyPolicy } from '@bpfleet/sdk/policy';
import { generateKeyPair, toSigningKey } from '@bpfleet/sdk/trust';
import { deviceTopics } from '../mqtt/topics.js';
import { PolicyStore } from './policy-store.js';

const operator = generateKeyPair();
const intruder = generateKeyPair();
const keys = [{ keyId: operator.keyId, publicKeyPem: operator.publicKeyPem }];
const topics = deviceTopics('home', 'dev-1');
const now = new Date('2029-06-01T00:00:00Z');

function policy(serial: number, patch: Partial<Policy> = {}): Policy {
  return {
    apiVersion: 'bpfleet/v1',
    kind: 'Policy',
    serial,
    expires: '2030-01-01T00:00:00Z',
    target: { device: 'dev-1' },
    fleet: 'home',
    programs: [{ id: 'count', package: 'acme/count', version: `${serial}.0.0` }],
    ...patch,
  };
}

async function signed(p: Policy, key = operator.privateKeyPem): Promise<Buffer> {
  return Buffer.from(JSON.stringify(await signPolicy(p, toSigningKey(key))));
}

function store(): PolicyStore {
  return new PolicyStore({
    deviceId: 'dev-1',
    fleet: 'home',
    groups: ['gw', 'eu'],
    deviceTopic: topics.device,
    groupTopic: topics.group,
    verify: (bundle, at) => verifyPolicy(bundle, keys, at),
    now: () => now,
  });
}

test('accepts a newer serial, ignores the retained replay of the applied one, refuses older ones', async () => {
  const s = store();
  assert.equal(s.ready(), false);
  const two = await signed(policy(2));
  assert.equal((await s.receive(topics.device, two)).kind, 'accepted');
  assert.equal((await s.receive(topics.device, two)).kind, 'unchanged');
  const older = await s.receive(topics.device, await signed(policy(1)));
  assert.equal(older.kind === 'rejected' && older.error.code, 'POLICY_REPLAYED');
  const reused = await s.receive(topics.device, await signed(policy(2, { programs: [] })));
  assert.equal(reused.kind === 'rejected' && reused.error.code, 'POLICY_SERIAL_REUSED');
  assert.equal(s.wanted()[0]?.version, '2.0.0');
  assert.equal((await s.receive(topics.device, await signed(policy(3)))).kind, 'accepted');
  assert.equal(s.wanted()[0]?.version, '3.0.0');
});

test('serials survive a restart through the snapshot', async () => {
  const s = store();
  await s.receive(topics.device, await signed(policy(5)));
  const restarted = new PolicyStore({
    deviceId: 'dev-1',
    fleet: 'home',
    groups: [],
    deviceTopic: topics.device,
    groupTopic: topics.group,
    verify: (bundle, at) => verifyPolicy(bundle, keys, at),
    now: () => now,
    accepted: JSON.parse(JSON.stringify(s.snapshot())),
  });
  const replay = await restarted.receive(topics.device, await signed(policy(4)));
  assert.equal(replay.kind === 'rejected' && replay.error.code, 'POLICY_REPLAYED');
  assert.equal(restarted.wanted()[0]?.version, '5.0.0');
});

test('refuses wrong keys, expired policies, other targets and garbage, changing nothing', async () => {
  const s = store();
  const cases: Array<[string, Buffer, string]> = [
    [topics.device, await signed(policy(1), intruder.privateKeyPem), 'KEY_UNKNOWN'],
    [topics.device, await signed(policy(1, { expires: '2029-05-01T00:00:00Z' })), 'POLICY_EXPIRED'],
    [topics.device, await signed(policy(1, { target: { device: 'dev-2' } })), 'POLICY_WRONG_TARGET'],
    [topics.group('gw'), await signed(policy(1)), 'POLICY_WRONG_TARGET'],
    [topics.device, await signed(policy(1, { fleet: 'work' })), 'POLICY_WRONG_TARGET'],
    [topics.device, Buffer.from('not json'), 'POLICY_MALFORMED'],
    [topics.device, Buffer.from('{"mediaType":"x"}'), 'BUNDLE_INVALID'],
  ];
  for (const [topic, payload, code] of cases) {
    const outcome = await s.receive(topic, payload);
    assert.equal(outcome.kind, 'rejected');
    if (outcome.kind === 'rejected' && code !== 'BUNDLE_INVALID')
      assert.equal(outcome.error.code, code, outcome.error.message);
  }
  assert.equal(s.ready(), false);
  assert.equal((await s.receive(topics.device, Buffer.alloc(0))).kind, 'unchanged');
});

test('merges the device policy over its groups in configured order', async () => {
  const s = store();
  await s.receive(
    topics.group('eu'),
    await signed(
      policy(1, {
        target: { group: 'eu' },
        programs: [
          { id: 'count', package: 'acme/count', version: '9.0.0' },
          { id: 'fw', package: 'acme/fw', channel: 'eu' },
        ],
      }),
    ),
  );
  await s.receive(
    topics.group('gw'),
    await signed(
      policy(1, { target: { group: 'gw' }, programs: [{ id: 'fw', package: 'acme/fw', channel: 'gw' }] }),
    ),
  );
  await s.receive(topics.device, await signed(policy(1)));
  assert.deepEqual(
    s.wanted().map((w) => [w.id, w.version ?? w.channel, w.source]),
    [
      ['count', '1.0.0', 'device:dev-1'],
      ['fw', 'gw', 'group:gw'],
    ],
  );
});

test('expiry counts on the store’s clock: expired policies are listed, keep marks, remove drops, next expiry ahead', async () => {
  let clock = new Date('2029-06-01T00:00:00Z');
  const s = new PolicyStore({
    deviceId: 'dev-1',
    fleet: 'home',
    groups: ['gw'],
    deviceTopic: topics.device,
    groupTopic: topics.group,
    verify: (bundle, at) => verifyPolicy(bundle, keys, at),
    now: () => clock,
  });
  await s.receive(topics.device, await signed(policy(4, { expires: '2029-07-01T00:00:00Z' })));
  const group = policy(2, {
    target: { group: 'gw' },
    expires: '2029-08-01T00:00:00Z',
    onExpiry: 'remove',
    programs: [{ id: 'fw', package: 'acme/fw', version: '1.0.0' }],
  });
  await s.receive(topics.group('gw'), await signed(group));
  assert.deepEqual(s.expired(), []);
  assert.equal(s.nextExpiry()?.toISOString(), '2029-07-01T00:00:00.000Z');

  clock = new Date('2029-07-01T00:00:00Z');
  assert.deepEqual(
    s.expired().map((e) => [e.topic, e.serial, e.reason.code]),
    [[topics.device, 4, 'POLICY_EXPIRED']],
  );
  assert.deepEqual(
    s.wanted().map((w) => [w.id, w.expired?.code]),
    [
      ['count', 'POLICY_EXPIRED'],
      ['fw', undefined],
    ],
  );
  assert.equal(s.nextExpiry()?.toISOString(), '2029-08-01T00:00:00.000Z');

  clock = new Date('2029-09-01T00:00:00Z');
  assert.deepEqual(
    s.wanted().map((w) => w.id),
    ['count'],
    'the expired remove policy’s program is no longer wanted',
  );
  assert.equal(s.nextExpiry(), undefined);
  assert.equal(s.ready(), true, 'expired policies are still held: only a newer serial replaces them');
  // Renewal: a newer serial with a later expiry is accepted and clears the device's expiry.
  await s.receive(topics.device, await signed(policy(5, { expires: '2030-01-01T00:00:00Z' })));
  assert.deepEqual(
    s.expired().map((e) => e.topic),
    [topics.group('gw')],
  );
});

test('a stored policy that expired while the agent was down is expired at start-up', async () => {
  const s = store();
  await s.receive(topics.device, await signed(policy(3, { expires: '2029-06-02T00:00:00Z' })));
  const restarted = new PolicyStore({
    deviceId: 'dev-1',
    fleet: 'home',
    groups: [],
    deviceTopic: topics.device,
    groupTopic: topics.group,
    verify: (bundle, at) => verifyPolicy(bundle, keys, at),
    now: () => new Date('2029-06-03T00:00:00Z'),
    accepted: JSON.parse(JSON.stringify(s.snapshot())),
  });
  assert.deepEqual(
    restarted.expired().map((e) => [e.serial, e.reason.code]),
    [[3, 'POLICY_EXPIRED']],
  );
  assert.equal(restarted.wanted()[0]?.expired?.code, 'POLICY_EXPIRED');
});
