import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BpfleetError } from '../errors.js';
import { signDocument } from '../trust/document-signature.js';
import { generateKeyPair, toSigningKey } from '../trust/keys.js';
import { INDEX_PAYLOAD_TYPE } from '../trust/payload-types.js';
import type { Policy } from './policy.js';
import { signPolicy, verifyPolicy } from './sign-policy.js';

const operator = generateKeyPair();
const other = generateKeyPair();
const trusted = [{ keyId: operator.keyId, publicKeyPem: operator.publicKeyPem }];
const policy: Policy = {
  apiVersion: 'bpfleet/v1',
  kind: 'Policy',
  serial: 3,
  expires: '2030-01-01T00:00:00Z',
  target: { device: 'dev-1' },
  fleet: 'home',
  programs: [{ id: 'count', package: 'acme/count', channel: 'stable' }],
};
const now = new Date('2029-06-01T00:00:00Z');

function rejectsWith(code: string): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof BpfleetError, String(err));
    assert.equal(err.code, code, err.message);
    return true;
  };
}

test('a policy signed by an operator key verifies to the same policy', async () => {
  const bundle = await signPolicy(policy, toSigningKey(operator.privateKeyPem));
  assert.deepEqual(await verifyPolicy(JSON.parse(JSON.stringify(bundle)), trusted, now), policy);
});

test('refuses other keys, expired policies, other payload types and tampered payloads', async () => {
  const key = toSigningKey(operator.privateKeyPem);
  const bundle = await signPolicy(policy, key);
  await assert.rejects(
    verifyPolicy(await signPolicy(policy, toSigningKey(other.privateKeyPem)), trusted, now),
    rejectsWith('KEY_UNKNOWN'),
  );
  await assert.rejects(
    verifyPolicy(bundle, trusted, new Date('2030-01-01T00:00:00Z')),
    rejectsWith('POLICY_EXPIRED'),
  );
  const asIndex = await signDocument(INDEX_PAYLOAD_TYPE, policy, key);
  await assert.rejects(verifyPolicy(asIndex, trusted, now), (err: unknown) => err instanceof BpfleetError);
  const tampered = structuredClone(bundle) as { dsseEnvelope: { payload: string } };
  const doc = JSON.parse(Buffer.from(tampered.dsseEnvelope.payload, 'base64').toString());
  doc.serial = 99;
  tampered.dsseEnvelope.payload = Buffer.from(JSON.stringify(doc)).toString('base64');
  await assert.rejects(verifyPolicy(tampered, trusted, now), (err: unknown) => err instanceof BpfleetError);
});

test('signing refuses a policy that does not match the schema', async () => {
  const bad = { ...policy, programs: [{ id: 'x', package: 'acme/count' }] } as Policy;
  await assert.rejects(
    signPolicy(bad, toSigningKey(operator.privateKeyPem)),
    rejectsWith('VERSION_OR_CHANNEL'),
  );
});
