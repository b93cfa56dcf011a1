// Policy expiry: the signed onExpiry field, and what merging makes of an expired keep or remove policy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateKeyPair, toSigningKey } from '../trust/index.js';
import { mergePolicies } from './merge-policies.js';
import { toPolicy } from './parse-policy.js';
import type { Policy, PolicyProgram, PolicyTarget } from './policy.js';
import { PolicyFieldError } from './policy-error.js';
import { policyExpired } from './policy-expiry.js';
import { signPolicy, verifyPolicy } from './sign-policy.js';

const EXPIRES = '2030-01-01T00:00:00Z';
const before = new Date('2029-12-31T23:59:59.999Z');
const at = new Date(EXPIRES);

function policy(target: PolicyTarget, programs: PolicyProgram[], patch: Partial<Policy> = {}): Policy {
  return {
    apiVersion: 'bpfleet/v1',
    kind: 'Policy',
    serial: 7,
    expires: EXPIRES,
    target,
    fleet: 'f',
    programs,
    ...patch,
  };
}

test('onExpiry is optional, keep or remove, and absent stays absent (older signed policies read back the same)', () => {
  const plain = policy({ device: 'd' }, []);
  assert.equal('onExpiry' in toPolicy(plain), false);
  assert.equal(toPolicy({ ...plain, onExpiry: 'remove' }).onExpiry, 'remove');
  assert.equal(toPolicy({ ...plain, onExpiry: 'keep' }).onExpiry, 'keep');
  for (const bad of ['drop', null, true, 'KEEP']) {
    assert.throws(
      () => toPolicy({ ...plain, onExpiry: bad }),
      (err: unknown) =>
        err instanceof PolicyFieldError && err.code === 'INVALID_VALUE' && err.path === 'onExpiry',
      String(bad),
    );
  }
});

test('onExpiry is signed with the rest: changing it breaks the signature', async () => {
  const operator = generateKeyPair();
  const keys = [{ keyId: operator.keyId, publicKeyPem: operator.publicKeyPem }];
  const bundle = await signPolicy(
    policy({ device: 'd' }, [], { onExpiry: 'keep' }),
    toSigningKey(operator.privateKeyPem),
  );
  assert.equal((await verifyPolicy(bundle, keys, before)).onExpiry, 'keep');
  const envelope = bundle.dsseEnvelope as { payload: string };
  const doc = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
  doc.onExpiry = 'remove';
  const tampered = {
    ...bundle,
    dsseEnvelope: { ...bundle.dsseEnvelope, payload: Buffer.from(JSON.stringify(doc)).toString('base64') },
  };
  await assert.rejects(verifyPolicy(tampered, keys, before));
});

test('expired from the expiry instant on, with a message that does not change while it stays expired', () => {
  const p = policy({ group: 'gw' }, []);
  assert.equal(policyExpired(p, before), undefined);
  const now = policyExpired(p, at);
  assert.deepEqual(now, policyExpired(p, new Date('2031-01-01T00:00:00Z')));
  assert.equal(now?.code, 'POLICY_EXPIRED');
  assert.match(
    now?.message ?? '',
    /^policy serial 7 for group gw: expired at 2030-01-01T00:00:00Z; what runs stays/,
  );
  assert.match(
    policyExpired({ ...p, onExpiry: 'remove' }, at)?.message ?? '',
    /its programs are removed \(onExpiry: remove\)/,
  );
});

test('merging at a time: an expired keep policy marks its entries (and still shadows groups), remove drops them', () => {
  const fw = (version: string): PolicyProgram => ({ id: 'fw', package: 'ns/fw', version });
  const device = policy({ device: 'd' }, [fw('2.0.0'), { id: 'count', package: 'ns/count', version: '1' }]);
  const group = policy({ group: 'g' }, [fw('1.0.0')], { expires: '2099-01-01T00:00:00Z' });
  const view = (ps: ReturnType<typeof mergePolicies>) => ps.map((p) => [p.id, p.version, p.expired?.code]);

  // Without a time, or before the expiry, nothing is marked: the merge as it always was.
  assert.deepEqual(view(mergePolicies(device, [group])), [
    ['count', '1', undefined],
    ['fw', '2.0.0', undefined],
  ]);
  assert.deepEqual(view(mergePolicies(device, [group], before)), [
    ['count', '1', undefined],
    ['fw', '2.0.0', undefined],
  ]);

  assert.deepEqual(view(mergePolicies(device, [group], at)), [
    ['count', '1', 'POLICY_EXPIRED'],
    ['fw', '2.0.0', 'POLICY_EXPIRED'],
  ]);
  assert.deepEqual(view(mergePolicies({ ...device, onExpiry: 'keep' }, [group], at)), [
    ['count', '1', 'POLICY_EXPIRED'],
    ['fw', '2.0.0', 'POLICY_EXPIRED'],
  ]);
  // remove: as if the device policy were gone, so the valid group entry takes the id.
  assert.deepEqual(view(mergePolicies({ ...device, onExpiry: 'remove' }, [group], at)), [
    ['fw', '1.0.0', undefined],
  ]);
});
