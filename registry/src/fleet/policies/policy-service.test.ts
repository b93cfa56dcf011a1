// The edge's policy service with real keys, real signatures and a real SQLite store.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cosignPolicy, type Policy, signPolicy, verifyTrustedPolicy } from '@bpfleet/sdk/policy';
import { generateKeyPair, type TrustedKey, toSigningKey } from '@bpfleet/sdk/trust';
import Database from 'better-sqlite3';
import type { DesiredTarget } from '../fleet-controller.js';
import { createRollout } from '../rollouts/rollout.js';
import { createPolicyService } from './policy-service.js';
import { createSqlitePolicyStore } from './policy-store.js';

const operator = generateKeyPair();
const operator2 = generateKeyPair();
const edge = generateKeyPair();
const stranger = generateKeyPair();
const trusted: TrustedKey[] = [operator].map((k) => ({ keyId: k.keyId, publicKeyPem: k.publicKeyPem }));
const edgeKeys: TrustedKey[] = [{ keyId: edge.keyId, publicKeyPem: edge.publicKeyPem }];
const clock = new Date('2026-11-27T10:00:00Z');

function setup(operatorKeys = trusted, operatorThreshold = 1) {
  const published: Array<{ target: DesiredTarget; policy: Policy }> = [];
  const journal: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  const trust = { operatorKeys, operatorThreshold, edgeKeys };
  const service = createPolicyService({
    fleet: 'acme',
    store: createSqlitePolicyStore(new Database(':memory:')),
    // Every published payload is verified as a device would, with the same keys.
    publish: async (target, payload) => {
      const groups = ['gw'];
      published.push({ target, policy: (await verifyTrustedPolicy(payload, trust, clock, groups)).policy });
    },
    operatorKeys: () => operatorKeys,
    operatorThreshold,
    edgeKey: toSigningKey(edge.privateKeyPem),
    policyTtlMs: 86_400_000,
    now: () => clock,
    logger: {
      info: (message, fields) => journal.push({ message, fields }),
      warn: (message, fields) => journal.push({ message, fields }),
    },
  });
  return { service, published, journal };
}

const groupPolicy = (serial: number, version = '1.0.0'): Policy => ({
  apiVersion: 'bpfleet/v1',
  kind: 'Policy',
  serial,
  expires: '2026-12-31T00:00:00Z',
  target: { group: 'gw' },
  fleet: 'acme',
  programs: [
    { id: 'fw', package: 'acme/fw', version, attach: { interface: 'wan0' } },
    { id: 'acct', package: 'acme/app-traffic', channel: 'stable' },
  ],
  allow: [{ package: 'acme/fw', versions: '>=1.0.0 <3' }],
});

test('operator policies are verified, serial-checked and published', async () => {
  const { service, published, journal } = setup();
  const key = toSigningKey(operator.privateKeyPem);
  await service.apply(await signPolicy(groupPolicy(5), key));
  assert.equal(published.length, 1);
  assert.equal(service.nextSerial({ group: 'gw' }), 6);
  await assert.rejects(service.apply(await signPolicy(groupPolicy(5), key)), {
    code: 'POLICY_SERIAL_NOT_NEWER',
  });
  await assert.rejects(
    service.apply(await signPolicy(groupPolicy(4), key)),
    /serial must be above the current 5; use 6/,
  );
  await assert.rejects(
    service.apply(await signPolicy(groupPolicy(9), toSigningKey(stranger.privateKeyPem))),
    {
      code: 'KEY_UNKNOWN',
    },
  );
  await assert.rejects(service.apply(await signPolicy({ ...groupPolicy(9), fleet: 'other' }, key)), {
    code: 'POLICY_WRONG_FLEET',
  });
  assert.equal(published.length, 1, 'nothing refused was published');
  assert.deepEqual(journal, [
    {
      message: 'policy published',
      fields: {
        target: 'group:gw',
        serial: 5,
        expires: '2026-12-31T00:00:00Z',
        programs: ['fw=acme/fw@1.0.0', 'acct=acme/app-traffic@#stable'],
        signedBy: 'operators',
      },
    },
  ]);
});

test('rollout actions move devices with signed overrides, then restore or complete', async () => {
  const { service, published } = setup();
  const key = toSigningKey(operator.privateKeyPem);
  await service.apply(await signPolicy(groupPolicy(1), key));
  // d2 already has a device policy of its own, which the rollout must keep and give back.
  const own: Policy = {
    ...groupPolicy(1),
    target: { device: 'd2' },
    programs: [{ id: 'dbg', package: 'acme/tracer', version: '0.1.0' }],
    allow: undefined,
  };
  await service.apply(await signPolicy(own, key));
  const rollout = createRollout(
    'r1',
    {
      group: 'gw',
      package: 'acme/fw',
      version: '2.0.0',
      waves: [1, 1],
      waveTimeoutMs: 1,
      failureThreshold: 0,
    },
    ['d1', 'd2'],
    clock,
  );
  const actions = service.rolloutActions();

  await actions.move(rollout, ['d1', 'd2']);
  const d2 = service.current({ device: 'd2' })!.policy;
  assert.deepEqual(
    d2.programs.map((p) => `${p.id}:${p.version}`),
    ['dbg:0.1.0', 'fw:2.0.0'],
  );
  assert.deepEqual(
    d2.programs[1]?.attach,
    { interface: 'wan0' },
    'the group entry is kept, only the version pinned',
  );

  await actions.restore(rollout, ['d1', 'd2']);
  assert.deepEqual(service.current({ device: 'd1' })!.policy.programs, []);
  assert.deepEqual(
    service.current({ device: 'd2' })!.policy.programs.map((p) => p.id),
    ['dbg'],
  );

  await actions.move(rollout, ['d1']);
  await actions.complete(rollout);
  const group = service.current({ group: 'gw' })!.policy;
  assert.equal(group.programs.find((p) => p.id === 'fw')?.version, '2.0.0');
  assert.equal(group.serial, 2);
  assert.deepEqual(service.current({ device: 'd1' })!.policy.programs, []);
  assert.ok(published.every((p) => p.policy.fleet === 'acme'));
  const serials = published
    .filter((p) => 'device' in p.target && p.target.device === 'd1')
    .map((p) => p.policy.serial);
  assert.deepEqual(
    serials,
    [...serials].sort((a, b) => a - b),
    'serials only grow per target',
  );
});

test('republish sends every stored policy again, exactly as signed', async () => {
  const { service, published } = setup();
  await service.apply(await signPolicy(groupPolicy(3), toSigningKey(operator.privateKeyPem)));
  await service.signAndApply({ device: 'gw-1' }, [], 'gw');
  published.length = 0;
  assert.equal(await service.republish(), 2);
  assert.deepEqual(
    published.map((p) => [p.target, p.policy.serial]).sort((a, b) => Number(a[1]) - Number(b[1])),
    [
      [{ device: 'gw-1' }, 1],
      [{ group: 'gw' }, 3],
    ],
  );
});

test('k of n: the edge refuses a policy with fewer operator signatures, naming who signed', async () => {
  const both = [operator, operator2].map((k) => ({ keyId: k.keyId, publicKeyPem: k.publicKeyPem }));
  const { service, published } = setup(both, 2);
  const one = await signPolicy(groupPolicy(1), toSigningKey(operator.privateKeyPem));
  await assert.rejects(service.apply(one), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'THRESHOLD_NOT_MET');
    assert.ok(err.message.includes(operator.keyId) && /have 1, need 2/.test(err.message), err.message);
    assert.match(err.message, /bpfleet policy sign .*--key/);
    return true;
  });
  assert.equal(published.length, 0);
  await service.apply(await cosignPolicy(one, toSigningKey(operator2.privateKeyPem)));
  assert.equal(service.current({ group: 'gw' })?.serial, 1);
});

test("rollouts outside the operators' allowance are refused at the edge before any wave", async () => {
  const { service, published } = setup();
  await service.apply(await signPolicy(groupPolicy(1), toSigningKey(operator.privateKeyPem)));
  const spec = { group: 'gw', package: 'acme/fw', waves: [1], waveTimeoutMs: 1, failureThreshold: 0 };
  await service.rolloutActions().check({ ...spec, version: '2.5.0' });
  await assert.rejects(service.rolloutActions().check({ ...spec, version: '3.0.0' }), {
    code: 'POLICY_NOT_ALLOWED',
  });
  await assert.rejects(
    service.signAndApply({ device: 'd1' }, [{ id: 'x', package: 'evil/x', version: '1.0.0' }], 'gw'),
    {
      code: 'POLICY_NOT_ALLOWED',
    },
  );
  assert.equal(published.length, 1, 'only the operator policy was published');
});
