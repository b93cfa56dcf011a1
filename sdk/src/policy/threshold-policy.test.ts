import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BpfleetError } from '../errors.js';
import { generateKeyPair, type KeyPair, toSigningKey } from '../trust/keys.js';
import { verifyTrustedPolicy } from './fleet-policy-trust.js';
import type { Policy } from './policy.js';
import { cosignPolicy, signPolicy, verifyPolicySigners } from './sign-policy.js';

const [op1, op2, op3, edge] = [
  generateKeyPair(),
  generateKeyPair(),
  generateKeyPair(),
  generateKeyPair(),
] as [KeyPair, KeyPair, KeyPair, KeyPair];
const trusted = (k: KeyPair) => ({ keyId: k.keyId, publicKeyPem: k.publicKeyPem });
const key = (k: KeyPair) => toSigningKey(k.privateKeyPem);
const operators = [op1, op2, op3].map(trusted);
const trust = { operatorKeys: operators, operatorThreshold: 2, edgeKeys: [trusted(edge)] };
const now = new Date('2029-06-01T00:00:00Z');
const firewall = { id: 'fw', package: 'acme/xdp-firewall', attach: { interface: 'wan0' } };
const groupPolicy: Policy = {
  apiVersion: 'bpfleet/v1',
  kind: 'Policy',
  serial: 4,
  expires: '2030-01-01T00:00:00Z',
  target: { group: 'gw' },
  fleet: 'home',
  programs: [{ ...firewall, version: '1.2.0' }],
  allow: [{ package: 'acme/xdp-firewall', versions: '>=1.2.0 <2' }],
};

function code(expected: string) {
  return (err: unknown) => {
    assert.ok(err instanceof BpfleetError, String(err));
    assert.equal(err.code, expected, err.message);
    return true;
  };
}

async function signedBy(policy: Policy, ...keys: KeyPair[]) {
  let bundle: unknown = await signPolicy(policy, key(keys[0]!));
  for (const k of keys.slice(1)) bundle = await cosignPolicy(bundle, key(k));
  return JSON.parse(JSON.stringify(bundle)) as unknown;
}

const edgePolicy = async (programs: Policy['programs'], grants: unknown[], target = { device: 'dev-1' }) =>
  signedBy(
    {
      ...groupPolicy,
      serial: 9,
      target,
      expires: '2029-12-01T00:00:00Z',
      allow: undefined,
      programs,
      grants,
    },
    edge,
  );

test('2 of 3: one operator signature is refused naming who signed and how many are needed; two pass', async () => {
  const one = await signedBy(groupPolicy, op1);
  await assert.rejects(verifyPolicySigners(one, operators, 2, now), (err: unknown) => {
    code('THRESHOLD_NOT_MET')(err);
    const message = (err as Error).message;
    assert.match(message, /have 1, need 2/);
    assert.ok(message.includes(op1.keyId), message);
    return true;
  });
  const two = await signedBy(groupPolicy, op1, op3);
  const verified = await verifyPolicySigners(two, operators, 2, now);
  assert.deepEqual(verified.policy, groupPolicy);
  assert.deepEqual(verified.signers, [op1.keyId, op3.keyId]);
  await assert.rejects(cosignPolicy(two, key(op1)), code('ALREADY_SIGNED'));
  // A key the fleet does not trust adds nothing.
  const withStranger = await signedBy(groupPolicy, op1, edge);
  await assert.rejects(verifyPolicySigners(withStranger, operators, 2, now), code('THRESHOLD_NOT_MET'));
});

test('an edge-signed policy passes only for what the operators granted', async () => {
  const grant = await signedBy(groupPolicy, op1, op2);
  const inRange = await edgePolicy([{ ...firewall, version: '1.3.0' }], [grant]);
  const ok = await verifyTrustedPolicy(inRange, trust, now, ['gw']);
  assert.equal(ok.authority, 'edge');
  assert.equal(ok.policy.programs[0]?.version, '1.3.0');
  // The grant's own version is fine too, and removing everything names nothing.
  await verifyTrustedPolicy(await edgePolicy([{ ...firewall, version: '1.2.0' }], [grant]), trust, now, [
    'gw',
  ]);

  // A range in the grant's own entry allows each version inside it without an allowance.
  const ranged = await signedBy(
    { ...groupPolicy, allow: undefined, programs: [{ ...firewall, version: '^1' }] },
    op1,
    op2,
  );
  await verifyTrustedPolicy(await edgePolicy([{ ...firewall, version: '1.9.0' }], [ranged]), trust, now, [
    'gw',
  ]);
  await assert.rejects(
    verifyTrustedPolicy(await edgePolicy([{ ...firewall, version: '2.0.0' }], [ranged]), trust, now, ['gw']),
    code('POLICY_NOT_ALLOWED'),
  );

  const refusals: Array<[string, Promise<unknown>]> = [
    ['a version outside the range', edgePolicy([{ ...firewall, version: '2.0.0' }], [grant])],
    ['a range instead of a pinned version', edgePolicy([{ ...firewall, version: '^1' }], [grant])],
    ['another package', edgePolicy([{ ...firewall, package: 'evil/miner', version: '1.3.0' }], [grant])],
    [
      'other settings',
      edgePolicy([{ ...firewall, attach: { interface: 'lan0' }, version: '1.3.0' }], [grant]),
    ],
    ['no grant', signedBy({ ...groupPolicy, target: { device: 'dev-1' }, allow: undefined }, edge)],
    [
      'a grant with one operator',
      edgePolicy([{ ...firewall, version: '1.3.0' }], [await signedBy(groupPolicy, op1)]),
    ],
    [
      'a grant for another group',
      edgePolicy(
        [{ ...firewall, version: '1.3.0' }],
        [await signedBy({ ...groupPolicy, target: { group: 'lab' } }, op1, op2)],
      ),
    ],
  ];
  for (const [what, bundle] of refusals) {
    await assert.rejects(
      verifyTrustedPolicy(await bundle, trust, now, ['gw']),
      code('POLICY_NOT_ALLOWED'),
      what,
    );
  }
  // The edge key is not an operator key: alone it never reaches the threshold.
  const noEdge = { ...trust, edgeKeys: [] };
  await assert.rejects(verifyTrustedPolicy(inRange, noEdge, now, ['gw']), code('THRESHOLD_NOT_MET'));
});
